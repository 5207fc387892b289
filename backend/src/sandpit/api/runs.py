"""Runs: execute a file or a code string in the workspace's sandbox, then poll or wait."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import FileResponse

from sandpit.api.deps import Context, CurrentUser, DbSession
from sandpit.api.schemas import RunCreate, RunOut, RunStarted, RunStatus
from sandpit.context import AppContext
from sandpit.db.models import Run
from sandpit.runs.service import RunService
from sandpit.services import workspaces

router = APIRouter(tags=["runs"])


def _runs(context: AppContext) -> RunService:
    if context.runs is None:
        raise context.sandboxes_unavailable()
    return context.runs


def run_out(run: Run) -> RunOut:
    return RunOut(
        id=run.id,
        workspace_id=run.workspace_id,
        path=run.path,
        status=cast(RunStatus, run.status),
        exit_code=run.exit_code,
        stdout=run.stdout,
        stderr=run.stderr,
        truncated=run.truncated,
        duration_ms=run.duration_ms,
        images=[f"/api/runs/{run.id}/images/{i}" for i in range(run.images)],
        message=run.message,
        created_at=run.created_at,
        finished_at=run.finished_at,
    )


@router.post(
    "/workspaces/{workspace_id}/runs",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunOut | RunStarted,
    responses={200: {"model": RunOut, "description": "With wait=true: the finished run."}},
)
async def create_run(
    workspace_id: str,
    body: RunCreate,
    response: Response,
    user: CurrentUser,
    db: DbSession,
    context: Context,
    wait: Annotated[bool, Query(description="Answer when the run has finished.")] = False,
) -> RunOut | RunStarted:
    """Run a workspace file (`path`) or a code string (`code`) in the workspace's sandbox."""
    service = _runs(context)
    workspace = await workspaces.get_owned(db, user, workspace_id)
    run = await service.start(
        db,
        user,
        workspace,
        path=body.path,
        code=body.code,
        stdin=body.stdin,
        timeout_s=body.timeout_s,
    )
    if not wait:
        return RunStarted(id=run.id, status="running")
    await service.wait(run.id)
    response.status_code = status.HTTP_200_OK
    return run_out(await service.get_owned(db, user, run.id))


@router.get("/workspaces/{workspace_id}/runs", response_model=list[RunOut])
async def list_runs(
    workspace_id: str, user: CurrentUser, db: DbSession, context: Context
) -> list[RunOut]:
    """The workspace's latest runs, newest first."""
    workspace = await workspaces.get_owned(db, user, workspace_id)
    return [run_out(r) for r in await _runs(context).list_for(db, workspace)]


@router.get("/runs/{run_id}", response_model=RunOut)
async def get_run(run_id: str, user: CurrentUser, db: DbSession, context: Context) -> RunOut:
    return run_out(await _runs(context).get_owned(db, user, run_id))


@router.post("/runs/{run_id}/stop", response_model=RunOut)
async def stop_run(run_id: str, user: CurrentUser, db: DbSession, context: Context) -> RunOut:
    """Stop the run and every process it started; a finished run is returned as it is."""
    service = _runs(context)
    run = await service.get_owned(db, user, run_id)
    await service.stop(run.id)
    return run_out(await service.get_owned(db, user, run_id))


@router.get(
    "/runs/{run_id}/images/{index}",
    name="run_image",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}},
)
async def run_image(
    run_id: str, index: int, user: CurrentUser, db: DbSession, context: Context
) -> FileResponse:
    """A plot the run showed (matplotlib's `show()`), as PNG."""
    service = _runs(context)
    run = await service.get_owned(db, user, run_id)
    return FileResponse(
        service.image_path(run, index),
        media_type="image/png",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"},
    )
