"""Workspaces: the user's saved coding sessions."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from sandpit.api.deps import Context, CurrentUser, DbSession, OwnedWorkspace
from sandpit.api.errors import responses
from sandpit.api.schemas import WorkspaceCreate, WorkspaceDetail, WorkspaceOut, WorkspaceUpdate
from sandpit.services import workspaces

router = APIRouter(prefix="/workspaces", tags=["workspaces"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WorkspaceDetail,
    responses=responses(409, e409="The name is taken, or the user has all the workspaces allowed."),
)
async def create_workspace(
    body: WorkspaceCreate, user: CurrentUser, db: DbSession, context: Context
) -> WorkspaceDetail:
    workspace = await workspaces.create(db, context.settings, user, body.name)
    return WorkspaceDetail.model_validate(workspace)


@router.get("", response_model=list[WorkspaceOut])
async def list_workspaces(user: CurrentUser, db: DbSession) -> list[WorkspaceOut]:
    return [WorkspaceOut.model_validate(w) for w in await workspaces.list_owned(db, user)]


@router.get("/{workspace_id}", response_model=WorkspaceDetail)
async def get_workspace(workspace: OwnedWorkspace) -> WorkspaceDetail:
    return WorkspaceDetail.model_validate(workspace)


@router.patch(
    "/{workspace_id}",
    response_model=WorkspaceDetail,
    responses=responses(
        409, 413, e409="The name is taken.", e413="The saved state is over 64 KiB."
    ),
)
async def update_workspace(
    workspace: OwnedWorkspace, body: WorkspaceUpdate, db: DbSession
) -> WorkspaceDetail:
    """Rename the workspace and/or save the IDE's state (open tabs, layout)."""
    workspace = await workspaces.update(db, workspace, name=body.name, ui_state=body.ui_state)
    return WorkspaceDetail.model_validate(workspace)


@router.post("/{workspace_id}/open", response_model=WorkspaceDetail)
async def open_workspace(workspace: OwnedWorkspace, db: DbSession) -> WorkspaceDetail:
    """Record that the workspace was opened and return what the IDE restores."""
    return WorkspaceDetail.model_validate(await workspaces.mark_opened(db, workspace))


@router.delete("/{workspace_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_workspace(workspace: OwnedWorkspace, db: DbSession, context: Context) -> Response:
    # Nothing may keep running on files that are about to go.
    await context.end_workspace(workspace.id)
    await workspaces.delete(db, context.settings, workspace)
    # Its versions and snapshots went with the record; now their contents.
    await context.history.collect()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
