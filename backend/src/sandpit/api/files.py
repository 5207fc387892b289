"""Files of a workspace: list, read, write, delete, move, create folders.

Every operation goes through `WorkspaceFS`, which resolves paths beneath the
workspace root without following symlinks (user code in the sandbox can
plant them). Filesystem calls block, so they run in a worker thread.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request, Response, status

from sandpit.api.deps import Context, DbSession, OwnedWorkspace
from sandpit.api.errors import responses
from sandpit.api.schemas import FileEntry, FolderCreate, MoveRequest, Usage, WorkspacePath
from sandpit.context import AppContext
from sandpit.errors import PayloadTooLarge, SandpitError
from sandpit.services import workspaces
from sandpit.workspaces import dataformats
from sandpit.workspaces.fs import WorkspaceFS
from sandpit.workspaces.store import workspace_fs

router = APIRouter(prefix="/workspaces/{workspace_id}", tags=["files"])
# Longest escaped path taken: a path's 1024 bytes, each escaped as 4 or more
# characters (\xff; \U0010ffff is 10 for 4 bytes), and room to spare.
MAX_ESCAPED_PATH = 16 * 1024

# Raw file content is user-controlled: never let a browser render it as a page.
_RAW_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "no-store",
}


def stored_content(data: bytes) -> Response:
    """Content the server stored (a file's version, a submitted file) as an answer.

    Served as UTF-8 text when it decodes as such, else as octet-stream,
    always with the headers that keep a browser from rendering it as a page.
    """
    try:
        data.decode("utf-8")
        media = "text/plain; charset=utf-8"
    except UnicodeDecodeError:
        media = "application/octet-stream"
    return Response(data, media_type=media, headers=dict(_RAW_HEADERS))


def _fs(workspace: OwnedWorkspace, context: Context) -> WorkspaceFS:
    return workspace_fs(context.settings, workspace.id)


# The owned workspace's files; `NotFound` unless the user owns it.
OwnedFS = Annotated[WorkspaceFS, Depends(_fs)]


@router.get(
    "/files",
    response_model=list[FileEntry],
    responses=responses(413, e413="Too many files and folders to list."),
)
async def list_files(
    fs: OwnedFS,
    include_dirs: Annotated[bool, Query(description="Also list folders and links.")] = False,
) -> list[FileEntry]:
    """Every file, recursively, with paths relative to the workspace and `/` separators."""
    entries = await to_thread.run_sync(fs.list, include_dirs)
    return [
        FileEntry(path=e.path, size=e.size, kind=e.kind, mtime=e.mtime, escaped=e.escaped)
        for e in entries
        if include_dirs or e.kind == "file"
    ]


@router.get(
    "/usage",
    response_model=Usage,
    responses=responses(413, e413="Too many files and folders: past the quota."),
)
async def usage(fs: OwnedFS, workspace: OwnedWorkspace, db: DbSession, context: Context) -> Usage:
    """The workspace's files against their quota, and its recorded runs (with plots)
    against the run storage, past which the oldest runs are pruned."""
    used = await to_thread.run_sync(fs.usage)
    runs, runs_bytes = await workspaces.run_storage(db, workspace.id)
    settings = context.settings
    return Usage(
        bytes=used.bytes,
        files=used.files,
        quota_bytes=settings.workspace_quota_bytes,
        quota_files=settings.workspace_quota_files,
        runs=runs,
        runs_bytes=runs_bytes,
        runs_quota_bytes=settings.run_storage_bytes,
        runs_kept=settings.runs_kept_per_workspace,
        history_bytes=await context.history.usage(db, workspace.owner_id),
        history_quota_bytes=settings.history_quota_bytes,
    )


@router.get(
    "/files/{path:path}",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {}, "application/octet-stream": {}},
            "description": "The file's content: UTF-8 text as text/plain, an allowed data "
            "format (by content) as its own type, anything else as application/octet-stream; "
            "never a type a browser would run (SVG and HTML are text/plain).",
        },
        **responses(
            400,
            409,
            413,
            e409="A folder, not a file.",
            e400="An invalid path, or not a file that can be read (a link, a special file).",
            e413="The file is larger than the file API serves.",
        ),
    },
)
async def read_file(
    path: WorkspacePath,
    fs: OwnedFS,
    download: bool = False,
) -> Response:
    data = await to_thread.run_sync(fs.read, path)
    headers = dict(_RAW_HEADERS)
    name = path.rsplit("/", 1)[-1]
    disposition = "attachment" if download else "inline"
    headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=dataformats.media_type(data), headers=headers)


@router.put(
    "/files/{path:path}",
    response_model=FileEntry,
    responses={
        201: {"model": FileEntry, "description": "The file was created."},
        **responses(
            400,
            409,
            415,
            e400="An invalid path.",
            e409="A folder is in the way.",
            e415="Neither UTF-8 text nor an allowed data format (`ALLOWED_DATA_FORMATS`).",
        ),
    },
    openapi_extra={
        # No body (or an empty one) writes an empty file, as a new file in the IDE.
        "requestBody": {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "required": False,
            "description": "The file's new content: UTF-8 text (or, where "
            "`ALLOWED_DATA_FORMATS` allows, a binary data file of an allowed format), at most "
            "1 MiB; none for an empty file.",
        }
    },
)
async def write_file(
    path: WorkspacePath,
    request: Request,
    response: Response,
    fs: OwnedFS,
    workspace: OwnedWorkspace,
    context: Context,
    source: Annotated[
        Literal["api", "editor"], Query(description="Who saves, as the file's history shows it.")
    ] = "api",
) -> FileEntry:
    """Create or replace a file with the raw request body (text or allowed data, at most 1 MiB).

    Answers 201 when the file was created and 200 when it was replaced. The
    new content becomes a version in the file's history.
    """
    data = await _read_body(request, context.settings.max_file_bytes)
    async with context.history.lock(workspace.id):
        created = await to_thread.run_sync(fs.write, path, data)
        entry = await to_thread.run_sync(fs.stat, path)
        await context.history.record(workspace.id, workspace.owner_id, [(entry.path, data)], source)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return FileEntry(path=entry.path, size=entry.size, kind=entry.kind, mtime=entry.mtime)


@router.delete(
    "/files/{path:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(
        400, 409, e400="An invalid path.", e409="A folder that is not empty (see `recursive`)."
    ),
)
async def delete_file(
    path: WorkspacePath,
    fs: OwnedFS,
    recursive: bool = False,
) -> Response:
    """Delete a file, a link (never its target) or a folder (non-empty needs `recursive`)."""
    await to_thread.run_sync(lambda: fs.delete(path, recursive=recursive))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/escaped-files",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(
        400,
        409,
        e400="A malformed escaped path.",
        e409="A folder that is not empty (see `recursive`).",
    ),
)
async def delete_escaped_file(
    path: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_ESCAPED_PATH,
            description="The path exactly as listed for an entry with `escaped: true`.",
        ),
    ],
    fs: OwnedFS,
    recursive: bool = False,
) -> Response:
    """Delete an entry whose name the file paths cannot hold (listed with `escaped: true`),
    as `DELETE .../files/{path}` does: a link itself, a folder only `recursive` if not empty."""
    await to_thread.run_sync(lambda: fs.delete_escaped(path, recursive=recursive))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/folders",
    status_code=status.HTTP_201_CREATED,
    response_model=FileEntry,
    responses={
        200: {"model": FileEntry, "description": "The folder was there already."},
        **responses(409, e409="Something other than a folder has that name."),
    },
)
async def create_folder(
    body: FolderCreate,
    response: Response,
    fs: OwnedFS,
) -> FileEntry:
    created = await to_thread.run_sync(fs.mkdir, body.path)
    entry = await to_thread.run_sync(fs.stat, body.path)
    if not created:
        response.status_code = status.HTTP_200_OK
    return FileEntry(path=entry.path, size=entry.size, kind=entry.kind, mtime=entry.mtime)


@router.post(
    "/move",
    response_model=FileEntry,
    responses=responses(409, e409="The destination exists (see `overwrite`)."),
)
async def move(
    body: MoveRequest, fs: OwnedFS, workspace: OwnedWorkspace, context: Context
) -> FileEntry:
    """Rename or move a file or folder within the workspace."""
    async with context.history.lock(workspace.id):
        await to_thread.run_sync(
            lambda: fs.move(body.source, body.destination, overwrite=body.overwrite)
        )
        entry = await to_thread.run_sync(fs.stat, body.destination)
        if entry.kind == "file":
            await _record_moved(context, workspace.id, workspace.owner_id, fs, entry.path)
    return FileEntry(path=entry.path, size=entry.size, kind=entry.kind, mtime=entry.mtime)


async def _record_moved(
    context: AppContext, workspace_id: str, owner_id: str, fs: WorkspaceFS, path: str
) -> None:
    """A moved file's content is a version at its new path (its old path keeps its history)."""
    try:
        data = await to_thread.run_sync(fs.read, path)
    except SandpitError:
        return  # too large to keep, or changed meanwhile: the watcher sees it later
    await context.history.record(workspace_id, owner_id, [(path, data)], "api")


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The file is larger than the {_human(limit)} limit.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The file is larger than the {_human(limit)} limit.")
        chunks.append(chunk)
    return b"".join(chunks)


def _human(size: int) -> str:
    if size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    if size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} bytes"
