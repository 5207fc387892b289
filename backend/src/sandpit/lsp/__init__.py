"""The editor's language servers: one small sandbox per workspace with pyrefly and ruff.

See docs/architecture/language-server.md for the choice and the design.
"""
