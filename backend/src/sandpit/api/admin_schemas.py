"""Bodies of the live-sandbox and admin endpoints (`sandpit.api.sandboxes`, `sandpit.api.admin`).

Kept apart from `sandpit.api.schemas` so that module stays the home of the
core resources.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from sandpit.api.schemas import Timestamp


class LiveSandboxOut(BaseModel):
    """A sandbox running now, with its use and what keeps it busy."""

    workspace_id: str
    workspace_name: str
    started_at: float = Field(description="Seconds since the epoch.")
    expires_at: float = Field(description="When its lifetime limit ends it (seconds since epoch).")
    memory_bytes: int
    memory_limit_bytes: int
    cpu_seconds: float
    pids: int
    runs: int = Field(description="Runs running in it now.")
    terminals: int = Field(description="Terminals open in it.")
    attached_terminals: int = Field(description="Terminals a window is attached to now.")
    busy: bool = Field(
        description="A run runs or a terminal is attached: stopping it would end that work, "
        "so a client asks the user first."
    )


class AdminSandboxOut(LiveSandboxOut):
    user_id: str
    username: str | None


class AdminUserOut(BaseModel):
    id: str
    username: str
    role: str
    disabled: bool = Field(description="A disabled account cannot sign in.")
    created_at: Timestamp
    workspaces: int
    sandboxes: int = Field(description="Sandboxes running now.")
    memory_bytes: int = Field(description="Memory of their running sandboxes now.")
    cpu_seconds: float = Field(description="CPU time of their running sandboxes so far.")
    storage_bytes: int = Field(description="Disk allocated to their workspaces.")
    runs_today: int = Field(description="Runs started since midnight UTC.")


class AdminUsersPage(BaseModel):
    users: list[AdminUserOut]
    # Pass as `offset` for the next page; null on the last page.
    next_offset: int | None


class RefusalOut(BaseModel):
    """A request refused by a limit (429) or by a full host (503), with `Retry-After`."""

    id: int
    at: Timestamp
    status: int
    route: str = Field(
        description="The route's template, e.g. /api/workspaces/{workspace_id}/runs."
    )
    user_id: str | None
    username: str | None
    detail: str


class AdmissionOut(BaseModel):
    """The host's admission state now."""

    sandboxes: int
    memory_in_use_bytes: int | None
    memory_budget_bytes: int
    cpus: float
    sandboxes_per_user: int
    refusals: list[RefusalOut]
