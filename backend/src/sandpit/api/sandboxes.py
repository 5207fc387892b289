"""The workspace's sandbox: its state and use against its limits, and stopping it."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from sandpit.api.deps import Context, OwnedWorkspace, Sandboxes
from sandpit.api.schemas import SandboxOut
from sandpit.errors import ServiceUnavailable
from sandpit.sandbox.base import EndReason, SandboxError

router = APIRouter(prefix="/workspaces/{workspace_id}/sandbox", tags=["sandbox"])


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
