"""The workspace's sandbox: its state and use against its limits, and stopping it;
and the sandboxes a user has running (`GET /api/sandboxes`), which a client
shows when the cap on them is reached."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from sandpit.api.admin_schemas import LiveSandboxOut
from sandpit.api.deps import Context, CurrentUser, DbSession, OwnedWorkspace, Sandboxes
from sandpit.api.schemas import SandboxOut
from sandpit.context import AppContext
from sandpit.db.models import Workspace
from sandpit.errors import ServiceUnavailable
from sandpit.sandbox.base import EndReason, Sandbox, SandboxError

router = APIRouter(prefix="/workspaces/{workspace_id}/sandbox", tags=["sandbox"])
user_router = APIRouter(prefix="/sandboxes", tags=["sandbox"])


@user_router.get("", response_model=list[LiveSandboxOut])
async def my_sandboxes(user: CurrentUser, db: DbSession, context: Context) -> list[LiveSandboxOut]:
    """The caller's sandboxes running now, oldest first, with what keeps each busy.

    At the cap on active sandboxes a start answers 429 listing their
    workspaces; this says more about each, so a client can offer to stop one
    (`DELETE /api/workspaces/{id}/sandbox`), asking first when it is `busy`.
    """
    manager = context.sandboxes
    if manager is None:
        return []
    mine = [s for s in manager.running() if manager.owner_of(s.workspace_id) == user.id]
    names = await workspace_names(db, (s.workspace_id for s in mine))
    found = [await live_sandbox(context, s, names.get(s.workspace_id, "")) for s in mine]
    return sorted((f for f in found if f is not None), key=lambda f: f.started_at)


async def workspace_names(db: DbSession, ids: Iterable[str]) -> dict[str, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await db.execute(select(Workspace.id, Workspace.name).where(Workspace.id.in_(wanted)))
    return {workspace_id: name for workspace_id, name in rows.tuples()}


async def live_sandbox(context: AppContext, sandbox: Sandbox, name: str) -> LiveSandboxOut | None:
    """`sandbox` as `LiveSandboxOut`; None if it ended meanwhile."""
    try:
        stats = await sandbox.stats()
    except SandboxError:
        return None
    workspace_id = sandbox.workspace_id
    runs = context.runs.running_in(workspace_id) if context.runs is not None else 0
    terminals = context.terminals.list(workspace_id) if context.terminals is not None else []
    open_terminals = [t for t in terminals if not t.exited]
    attached = sum(1 for t in open_terminals if t.clients)
    manager = context.sandboxes
    return LiveSandboxOut(
        workspace_id=workspace_id,
        workspace_name=name,
        started_at=stats.started_at,
        expires_at=stats.expires_at,
        memory_bytes=stats.memory_bytes,
        memory_limit_bytes=stats.memory_limit_bytes,
        cpu_seconds=stats.cpu_seconds,
        pids=stats.pids,
        runs=runs,
        terminals=len(open_terminals),
        attached_terminals=attached,
        busy=runs > 0 or attached > 0 or (manager is not None and manager.is_busy(workspace_id)),
    )


@router.get("", response_model=SandboxOut)
async def get_sandbox(workspace: OwnedWorkspace, manager: Sandboxes) -> SandboxOut:
    """Whether a sandbox runs for the workspace, its use against its limits, and
    why the last one ended (`lifetime`, `idle`, `stopped`, `crashed`)."""
    sandbox = manager.current(workspace.id)
    last_end = manager.last_end(workspace.id)
    if sandbox is None:
        return _not_running(last_end)
    try:
        stats = await sandbox.stats()
    except SandboxError as exc:
        # It ended between the two questions: say so, as the next poll would.
        if sandbox.ended_reason is not None:
            return _not_running(sandbox.ended_reason)
        raise ServiceUnavailable(str(exc)) from exc
    return SandboxOut(
        running=True,
        memory_bytes=stats.memory_bytes,
        memory_limit_bytes=stats.memory_limit_bytes,
        cpu_seconds=stats.cpu_seconds,
        cpus=stats.cpus,
        pids=stats.pids,
        pids_limit=stats.pids_limit,
        oom_kills=stats.oom_kills,
        started_at=stats.started_at,
        expires_at=stats.expires_at,
        last_end=last_end.value if last_end else None,
        last_end_message=last_end.sentence() if last_end else None,
    )


def _not_running(last_end: EndReason | None) -> SandboxOut:
    return SandboxOut(
        running=False,
        last_end=last_end.value if last_end else None,
        last_end_message=last_end.sentence() if last_end else None,
    )


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def stop_sandbox(workspace: OwnedWorkspace, context: Context) -> Response:
    """End the workspace's sandbox and everything in it; the next run starts a fresh one."""
    await context.stop_sandbox(workspace.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
