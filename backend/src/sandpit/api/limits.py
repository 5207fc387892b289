"""The limits this server applies, so clients can show them instead of guessing."""

from __future__ import annotations

from fastapi import APIRouter

from sandpit.api.deps import Context, CurrentUser
from sandpit.api.schemas import (
    LimitsOut,
    RunLimitsOut,
    SandboxLimitsOut,
    UserLimitsOut,
    WorkspaceLimitsOut,
)

router = APIRouter(tags=["limits"])


@router.get("/limits", response_model=LimitsOut)
async def get_limits(_user: CurrentUser, context: Context) -> LimitsOut:
    """Run, sandbox and workspace limits: the defaults a run or a file gets, and the caps."""
    settings = context.settings
    sandbox = settings.limits
    return LimitsOut(
        runs=RunLimitsOut(
            timeout_s=min(settings.run_timeout_s, settings.run_timeout_max_s),
            timeout_max_s=settings.run_timeout_max_s,
            output_bytes=settings.run_output_bytes,
            per_minute=settings.runs_per_minute,
            concurrent_per_workspace=settings.concurrent_runs_per_workspace,
        ),
        sandbox=SandboxLimitsOut(
            memory_bytes=sandbox.memory_bytes,
            cpus=sandbox.cpus,
            pids=sandbox.pids,
            open_files=sandbox.open_files,
            file_size_bytes=sandbox.file_size_bytes,
            tmp_bytes=sandbox.tmp_bytes,
            lifetime_s=sandbox.lifetime_s,
            idle_s=sandbox.idle_s,
        ),
        workspaces=WorkspaceLimitsOut(
            quota_bytes=settings.workspace_quota_bytes,
            quota_files=settings.workspace_quota_files,
            file_bytes=settings.max_file_bytes,
            per_user=settings.max_workspaces_per_user,
            terminals=settings.terminals_per_workspace,
        ),
        users=UserLimitsOut(
            sandboxes=settings.sandboxes_per_user,
            sandbox_starts_per_minute=settings.sandbox_starts_per_minute,
            runs_per_minute=settings.runs_per_minute,
            concurrent_runs=settings.concurrent_runs_per_user,
            terminals=settings.terminals_per_user,
        ),
        package_index_hosts=(
            list(settings.package_proxy_allowed_hosts) if settings.package_proxy_enabled else []
        ),
    )
