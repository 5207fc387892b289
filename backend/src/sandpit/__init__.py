"""Sandpit: a web-based Python development environment with sandboxed execution."""

__version__ = "0.1.0"
