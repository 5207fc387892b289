"""History and snapshots: earlier states of a workspace's files, and bringing them back.

Thin: `sandpit.history` does the work. Every route goes through
`OwnedWorkspace`, so another user's workspace, snapshot or version answers
404 as if it did not exist (a snapshot or version is looked up within the
owned workspace only).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from anyio import to_thread
from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse

from sandpit.api.deps import Context, CurrentUser, DbSession, OwnedWorkspace
from sandpit.api.errors import responses
from sandpit.api.files import stored_content
from sandpit.api.history_schemas import (
    HistoryUsage,
    RestoreOut,
    SnapshotChange,
    SnapshotCreate,
    SnapshotFileOut,
    SnapshotOut,
    VersionOut,
)
from sandpit.api.schemas import WorkspacePath
from sandpit.errors import SandpitError
from sandpit.history import rules
from sandpit.history.blobs import sha256_of
from sandpit.history.export import ManifestEntry, snapshot_zip
from sandpit.history.restore import Restored
from sandpit.workspaces.fs import WorkspaceFS
from sandpit.workspaces.paths import join_display, validate_path
from sandpit.workspaces.store import workspace_fs

router = APIRouter(tags=["history"])
_WS = "/workspaces/{workspace_id}"

_RAW: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/plain": {}, "application/octet-stream": {}},
        "description": "The stored content.",
    }
}
_RESTORE_ERRORS = responses(
    400,
    409,
    413,
    e400="An invalid path.",
    e409="A run is running in the workspace, or a folder is where a file would go.",
    e413="The restored files would not fit the workspace's quota.",
)


def _restored(done: Restored) -> RestoreOut:
    return RestoreOut(
        snapshot_before=done.snapshot_before, written=done.written, deleted=done.deleted
    )


# -- snapshots -----------------------------------------------------------------------


@router.post(
    _WS + "/snapshots",
    status_code=status.HTTP_201_CREATED,
    response_model=SnapshotOut,
    responses=responses(413, e413="The snapshot would not fit the history quota."),
)
async def create_snapshot(
    body: SnapshotCreate, workspace: OwnedWorkspace, context: Context
) -> SnapshotOut:
    """Save the workspace's files as a named, immutable snapshot."""
    async with context.history.lock(workspace.id):
        snapshot = await context.history.take_snapshot(
            workspace.id, workspace.owner_id, label=body.label
        )
    return SnapshotOut.model_validate(snapshot)


@router.get(_WS + "/snapshots", response_model=list[SnapshotOut])
async def list_snapshots(
    workspace: OwnedWorkspace, db: DbSession, context: Context
) -> list[SnapshotOut]:
    """The workspace's snapshots, newest first."""
    found = await context.history.snapshots(db, workspace.id)
    return [SnapshotOut.model_validate(s) for s in found]


@router.delete(_WS + "/snapshots/{snapshot_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_snapshot(
    snapshot_id: str, workspace: OwnedWorkspace, db: DbSession, context: Context
) -> Response:
    """Delete a snapshot (its contents go once nothing else refers to them)."""
    snapshot = await context.history.snapshot(db, workspace.id, snapshot_id)
    await context.history.delete_snapshot(snapshot)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(_WS + "/snapshots/{snapshot_id}/files", response_model=list[SnapshotFileOut])
async def list_snapshot_files(
    snapshot_id: str, workspace: OwnedWorkspace, db: DbSession, context: Context
) -> list[SnapshotFileOut]:
    await context.history.snapshot(db, workspace.id, snapshot_id)
    found = await context.history.snapshot_files(db, snapshot_id)
    return [SnapshotFileOut.model_validate(f) for f in found]


@router.get(
    _WS + "/snapshots/{snapshot_id}/files/{path:path}",
    response_class=Response,
    responses={**_RAW, **responses(400, e400="An invalid path.")},
)
async def read_snapshot_file(
    snapshot_id: str,
    path: WorkspacePath,
    workspace: OwnedWorkspace,
    db: DbSession,
    context: Context,
) -> Response:
    """A file's content as the snapshot holds it."""
    await context.history.snapshot(db, workspace.id, snapshot_id)
    shown = join_display(validate_path(path))
    found = await context.history.snapshot_file(db, snapshot_id, shown)
    return stored_content(await context.history.content(found.sha256))


@router.get(
    _WS + "/snapshots/{snapshot_id}/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The snapshot's files as a zip, streamed from storage as it is made.",
        }
    },
)
async def export_snapshot(
    snapshot_id: str, workspace: OwnedWorkspace, db: DbSession, context: Context
) -> StreamingResponse:
    """Every file of the snapshot as a zip, laid out like the workspace's export.

    Each file is exactly as the snapshot holds it, whatever the workspace
    holds now. Streamed: if a stored content goes missing meanwhile (the
    snapshot was deleted), the download fails rather than end incomplete.
    """
    snapshot = await context.history.snapshot(db, workspace.id, snapshot_id)
    manifest = [
        ManifestEntry(path=f.path, sha256=f.sha256, size=f.size)
        for f in await context.history.snapshot_files(db, snapshot_id)
    ]
    filename = quote(f"{workspace.name} - {_file_name_part(snapshot.label)}.zip")
    return StreamingResponse(
        snapshot_zip(context.history.blobs, manifest, snapshot.created_at),
        media_type="application/zip",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{filename}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _file_name_part(label: str) -> str:
    """A snapshot's label made fit for a downloaded file's name (no folders, no controls)."""
    cleaned = "".join("_" if c in "/\\" or not c.isprintable() else c for c in label).strip()
    return cleaned.strip(".") or "snapshot"


@router.get(
    _WS + "/snapshots/{snapshot_id}/compare",
    response_model=list[SnapshotChange],
    responses=responses(413, e413="Too many files and folders to list."),
)
async def compare_snapshot(
    snapshot_id: str, workspace: OwnedWorkspace, db: DbSession, context: Context
) -> list[SnapshotChange]:
    """The files that differ between the snapshot and the workspace now, by path."""
    await context.history.snapshot(db, workspace.id, snapshot_id)
    then = {f.path: f for f in await context.history.snapshot_files(db, snapshot_id)}
    fs = workspace_fs(context.settings, workspace.id)

    def differences() -> list[SnapshotChange]:
        now = {e.path: e for e in fs.list() if e.kind == "file" and rules.is_kept(e.path)}
        changes: list[SnapshotChange] = []
        for path in sorted(set(then) | set(now)):
            before, after = then.get(path), now.get(path)
            if before is None:
                changes.append(SnapshotChange(path=path, status="added"))
            elif after is None:
                changes.append(SnapshotChange(path=path, status="removed"))
            elif before.size != after.size or _digest(fs, path) != before.sha256:
                changes.append(SnapshotChange(path=path, status="changed"))
        return changes

    return await to_thread.run_sync(differences)


def _digest(fs: WorkspaceFS, path: str) -> str | None:
    try:
        return sha256_of(fs.read(path))
    except SandpitError:
        return None


@router.post(
    _WS + "/snapshots/{snapshot_id}/restore", response_model=RestoreOut, responses=_RESTORE_ERRORS
)
async def restore_snapshot(
    snapshot_id: str,
    workspace: OwnedWorkspace,
    context: Context,
    path: Annotated[
        WorkspacePath | None, Query(description="Restore only this file of the snapshot.")
    ] = None,
) -> RestoreOut:
    """Make the workspace hold exactly the snapshot's files (or restore one file).

    The state just before is saved as a new automatic snapshot, so the
    restore can itself be undone. Refused (409) while a run is running.
    Folders history does not keep (`.local/`, caches) are left as they are.
    """
    shown = join_display(validate_path(path)) if path is not None else None
    done = await context.restorer.snapshot(workspace.id, workspace.owner_id, snapshot_id, shown)
    return _restored(done)


# -- file history ----------------------------------------------------------------------


@router.get(
    _WS + "/history",
    response_model=list[VersionOut],
    responses=responses(400, e400="An invalid path."),
)
async def file_history(
    path: Annotated[WorkspacePath, Query(description="The file's path in the workspace.")],
    workspace: OwnedWorkspace,
    db: DbSession,
    context: Context,
) -> list[VersionOut]:
    """The versions of a file, newest first, also for a file deleted since."""
    shown = join_display(validate_path(path))
    found = await context.history.versions(db, workspace.id, shown)
    return [VersionOut.model_validate(v) for v in found]


@router.get(_WS + "/history/{version_id}", response_class=Response, responses=_RAW)
async def read_version(
    version_id: str, workspace: OwnedWorkspace, db: DbSession, context: Context
) -> Response:
    """The content of one version."""
    return stored_content(await context.history.version_content(db, workspace.id, version_id))


@router.post(
    _WS + "/history/{version_id}/restore", response_model=RestoreOut, responses=_RESTORE_ERRORS
)
async def restore_version(
    version_id: str, workspace: OwnedWorkspace, context: Context
) -> RestoreOut:
    """Put a version back at its path (also bringing back a deleted file)."""
    done = await context.restorer.version(workspace.id, workspace.owner_id, version_id)
    return _restored(done)


@router.get(
    _WS + "/deleted-files",
    response_model=list[VersionOut],
    responses=responses(413, e413="Too many files and folders to list."),
)
async def deleted_files(
    workspace: OwnedWorkspace, db: DbSession, context: Context
) -> list[VersionOut]:
    """Files that have history but are not in the workspace now: each one's latest version."""
    fs = workspace_fs(context.settings, workspace.id)
    present = [e.path for e in await to_thread.run_sync(fs.list) if e.kind == "file"]
    found = await context.history.deleted_files(db, workspace.id, present)
    return [VersionOut.model_validate(v) for v in found]


@router.get("/history/usage", response_model=HistoryUsage)
async def history_usage(user: CurrentUser, db: DbSession, context: Context) -> HistoryUsage:
    """How much of the user's history quota their versions and snapshots take."""
    used = await context.history.usage(db, user.id)
    return HistoryUsage(bytes=used, quota_bytes=context.settings.history_quota_bytes)
