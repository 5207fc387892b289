"""Workspace files on disk: path validation and link-safe file operations.

`paths.validate_path` turns a path from a request into checked components;
`fs.WorkspaceFS` reads, writes, lists, moves and deletes beneath one workspace
root without ever following a symbolic link that sandbox code may have planted
(security invariant 4).
"""
