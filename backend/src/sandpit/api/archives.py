"""A workspace as a zip: export (streamed), import as a new workspace or into one.

The zip's checks and the streaming live in `sandpit.workspaces.archive`; the
import's steps in `sandpit.services.archives`. The import routes take the
zip as the raw request body, up to `IMPORT_MAX_BYTES` (`BodySizeLimit` lets
these two paths past the general request limit), spooled to disk.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from anyio import to_thread
from fastapi import APIRouter, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator

from sandpit.api.deps import Context, CurrentUser, DbSession, OwnedWorkspace
from sandpit.api.errors import MethodNotAllowed, responses
from sandpit.api.schemas import NAME_SCHEMA, ImportOut, WorkspaceDetail, workspace_name
from sandpit.services import archives
from sandpit.workspaces.archive import export_paths, export_zip
from sandpit.workspaces.store import workspace_fs

router = APIRouter(prefix="/workspaces", tags=["workspaces"])

# The paths whose bodies may pass the general request limit (see `BodySizeLimit`).
IMPORT_PATHS = (r"^/api/workspaces/import$", r"^/api/workspaces/[^/]+/import$")

_ZIP_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
        "required": True,
        "description": "The zip file, as the raw body (at most `IMPORT_MAX_BYTES`); the "
        "Content-Type is not relied on, the bytes are.",
    }
}
_IMPORT_ERRORS = responses(
    400,
    413,
    415,
    e400="An unsafe entry (an absolute path, `..`, a refused name, a link, a device, a "
    "duplicate); the sentence names it. Nothing was written.",
    e413="More files or bytes than the quota, a zip bomb, or a zip past the import limit. "
    "Nothing was written.",
    e415="The body is not a zip file.",
)


@router.get(
    "/{workspace_id}/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The workspace's files as a zip, streamed as it is made.",
        },
        **responses(413, e413="Too many files and folders to list."),
    },
)
async def export_workspace(
    workspace: OwnedWorkspace,
    context: Context,
    include_local: Annotated[
        bool, Query(description="Also include `.local/` (packages installed with pip).")
    ] = False,
) -> StreamingResponse:
    """Every regular file of the workspace as a zip (links and special files left out)."""
    fs = workspace_fs(context.settings, workspace.id)
    paths = await to_thread.run_sync(lambda: export_paths(fs, include_local=include_local))
    filename = quote(f"{workspace.name}.zip")
    return StreamingResponse(
        export_zip(fs, paths),
        media_type="application/zip",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{filename}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    response_model=WorkspaceDetail,
    responses=_IMPORT_ERRORS
    | responses(409, e409="The name is taken, or the user has all the workspaces allowed."),
    openapi_extra=_ZIP_BODY,
)
async def import_workspace(
    request: Request,
    user: CurrentUser,
    db: DbSession,
    context: Context,
    name: Annotated[str, AfterValidator(workspace_name), Query(json_schema_extra=NAME_SCHEMA)],
) -> WorkspaceDetail:
    """Create a workspace holding the zip's files; on any error nothing is created."""
    settings = context.settings
    with archives.spool_file(settings) as spool:
        await archives.spool_upload(request.stream(), spool, settings.import_max_bytes)
        workspace = await archives.import_new(db, settings, context.history, user, name, spool)
    return WorkspaceDetail.model_validate(workspace)


@router.api_route(
    "/import",
    methods=["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"],
    include_in_schema=False,
)
async def import_other_methods() -> None:
    # Without this, `/workspaces/import` would also match `/workspaces/{workspace_id}`
    # and answer its methods (a 404 for a workspace named "import").
    raise MethodNotAllowed({"POST"})


@router.post(
    "/{workspace_id}/import",
    response_model=ImportOut,
    responses=_IMPORT_ERRORS,
    openapi_extra=_ZIP_BODY,
)
async def import_into_workspace(
    request: Request, workspace: OwnedWorkspace, context: Context
) -> ImportOut:
    """Add the zip's files to the workspace, replacing files of the same names.

    Other files stay. An automatic snapshot is taken just before anything is
    written (`snapshot_before`); on any error nothing is written.
    """
    settings = context.settings
    with archives.spool_file(settings) as spool:
        await archives.spool_upload(request.stream(), spool, settings.import_max_bytes)
        result = await archives.import_into(settings, context.history, workspace, spool)
    return ImportOut(files=result.files, bytes=result.bytes, snapshot_before=result.snapshot_before)
