"""Which files history and snapshots keep: the skip rule.

A path is left out when any folder on it is one of `SKIPPED_FOLDERS`, or its
name ends with one of `SKIPPED_SUFFIXES`. These are what tools generate and
can regenerate: pip's installs in `.local/`, byte code, caches of test and
type-check tools, virtual environments, `node_modules`, and `.git` (whose
content the user's own tools manage; Sandpit never runs git on it). Files
larger than the file API's limit (`MAX_FILE_BYTES`) are not kept either.
"""

from __future__ import annotations

SKIPPED_FOLDERS = frozenset(
    {
        ".local",
        ".cache",
        ".git",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".ipynb_checkpoints",
        ".venv",
        "venv",
        "node_modules",
    }
)
SKIPPED_SUFFIXES = (".pyc", ".pyo")


def is_kept(path: str) -> bool:
    """Whether history records the file at `path` ("/"-joined, relative)."""
    parts = path.split("/")
    if any(part in SKIPPED_FOLDERS for part in parts[:-1]):
        return False
    return not parts[-1].endswith(SKIPPED_SUFFIXES)
