"""Runs: executing a file or a code string in the workspace sandbox."""
