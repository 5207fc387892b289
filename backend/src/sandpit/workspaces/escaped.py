"""Names sandbox code made that the file API cannot take as is: listing them, naming one to delete.

Sandbox code can give a file a name with a control, escape or bidi
character, invalid UTF-8 or a non-NFC form. Such an entry (and anything
beneath it) is listed under its escaped path (`sandpit.workspaces.paths`),
flagged `escaped`, and only `WorkspaceFS.delete_escaped` takes that path
back. Our temporary files, and paths over the length limit, are never listed.
"""

from __future__ import annotations

from sandpit.errors import InvalidPath
from sandpit.workspaces._tree import TEMP_PREFIX, Found, is_reserved
from sandpit.workspaces.paths import join_display, unescape_path


def listed_path(found: Found) -> tuple[str, bool] | None:
    """The path to list `found` under and whether it is escaped; None to leave it out."""
    shown = join_display(found.parts)
    if found.addressable:
        return shown, False
    # Without a backslash nothing was escaped: the path is only too long.
    if "\\" in shown and not any(is_reserved(part) for part in found.parts):
        return shown, True
    return None


def refuse_reserved(parts: tuple[str, ...]) -> None:
    """Raise `InvalidPath` if a name in `parts` is reserved for our temporary files."""
    if any(is_reserved(part) for part in parts):
        raise InvalidPath(
            f"Names starting with '{TEMP_PREFIX}' are reserved for Sandpit's temporary files."
        )


def parts_to_delete(path: str) -> tuple[str, ...]:
    """The on-disk names of an escaped `path` as listed.

    Raises `InvalidPath` for a malformed escaped path or one naming our
    temporary files.
    """
    parts = unescape_path(path)
    refuse_reserved(parts)
    return parts
