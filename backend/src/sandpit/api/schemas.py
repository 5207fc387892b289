"""Request and response bodies. Field names are the public contract (CONTRACT.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from sandpit.api import patterns
from sandpit.errors import BadRequest
from sandpit.runs.output import Kind, Stream
from sandpit.services.users import PASSWORD_MAX, PASSWORD_MIN, USERNAME_RE
from sandpit.services.workspaces import NAME_MAX, clean_name
from sandpit.terminals.socket import MAX_COLS, MAX_ROWS


def _in_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Every point in time the API sends: RFC 3339 in UTC with its offset
# (`2026-12-06T06:21:58.720676Z`). A naive value is refused, never guessed:
# the database layer (`sandpit.db.types.UTCDateTime`) already reads in UTC.
Timestamp = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class Body(BaseModel):
    """A request body: JSON values as the schema types them (`0` is not `false`,
    `"24"` is not `24`), so that what the document refuses, the server refuses."""

    model_config = ConfigDict(strict=True)


def _integral(value: object) -> object:
    # JSON Schema's integer includes 24.0; a strict int would refuse it.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer in a strict body: also `24.0`, never `"24"` or `true`.
JsonInt = Annotated[int, BeforeValidator(_integral)]


class Credentials(Body):
    # The rules are checked below, for their sentences; the schema states them too.
    username: str = Field(examples=["ada"], json_schema_extra={"pattern": USERNAME_RE.pattern})
    password: str = Field(
        examples=["correct horse battery"],
        json_schema_extra={"minLength": PASSWORD_MIN, "maxLength": PASSWORD_MAX},
    )

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if not USERNAME_RE.fullmatch(value):
            raise ValueError(
                "A username is 3 to 32 characters of lower-case letters, digits, '_' and '-'."
            )
        return value

    @field_validator("password")
    @classmethod
    def _password(cls, value: str) -> str:
        if not PASSWORD_MIN <= len(value) <= PASSWORD_MAX:
            raise ValueError(f"A password is {PASSWORD_MIN} to {PASSWORD_MAX} characters long.")
        return value


class LoginRequest(Body):
    # Not validated beyond length: a wrong shape is simply wrong credentials.
    username: str = Field(max_length=64)
    password: str = Field(max_length=PASSWORD_MAX)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    role: str


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int


def _workspace_name(value: str) -> str:
    try:
        return clean_name(value)
    except BadRequest as exc:
        raise ValueError(exc.detail) from exc


NAME_SCHEMA: dict[str, Any] = {
    # The length is in the pattern (see `patterns.workspace_path`).
    "minLength": 1,
    "pattern": patterns.name_pattern(NAME_MAX),
    "description": f"At most {NAME_MAX} characters once trimmed, with at least one "
    "visible one; no control or invisible characters.",
}
# The same check and schema for a name given as a query parameter (the import).
workspace_name = _workspace_name

WorkspaceName = Annotated[
    str,
    AfterValidator(_workspace_name),
    Field(json_schema_extra=NAME_SCHEMA),
]

# A path in a workspace, as `sandpit.workspaces.paths.validate_path` checks it
# (the check and its sentence stay there; the schema states the rule).
WorkspacePath = Annotated[str, WithJsonSchema(patterns.workspace_path())]


class WorkspaceCreate(Body):
    name: WorkspaceName = Field(examples=["homework-1"])


class WorkspaceUpdate(Body):
    name: WorkspaceName | None = None
    ui_state: dict[str, Any] | None = None


class WorkspaceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    created_at: Timestamp
    updated_at: Timestamp
    last_opened_at: Timestamp | None


class WorkspaceDetail(WorkspaceOut):
    ui_state: dict[str, Any]


class ImportOut(BaseModel):
    """What an import into an existing workspace wrote."""

    files: int = Field(description="Files written (new or replaced).")
    bytes: int = Field(description="Their total size.")
    snapshot_before: str = Field(
        description="The automatic snapshot taken just before: restoring it undoes the import."
    )


class FileEntry(BaseModel):
    path: str
    size: int
    kind: Literal["file", "dir", "link", "other"]
    mtime: float
    escaped: bool = Field(
        default=False,
        description="A name on the path holds a control, escape or bidi character, invalid "
        "UTF-8 or another character a path may not have (sandbox code made it): `path` is then "
        "its escaped form (`\\xNN`, `\\uXXXX`, `\\\\`), which only "
        "`DELETE .../escaped-files?path=` takes.",
    )


class FolderCreate(Body):
    path: WorkspacePath


class MoveRequest(Body):
    model_config = ConfigDict(strict=True, populate_by_name=True)

    source: WorkspacePath = Field(alias="from")
    destination: WorkspacePath = Field(alias="to")
    overwrite: bool = False


class Usage(BaseModel):
    bytes: int
    files: int
    quota_bytes: int
    quota_files: int
    runs: int = Field(default=0, description="Recorded runs of the workspace.")
    runs_bytes: int = Field(default=0, description="Bytes the recorded runs and their plots take.")
    runs_quota_bytes: int = Field(
        default=0, description="Past this, the oldest finished runs are pruned."
    )
    runs_kept: int = Field(default=0, description="Finished runs kept at most.")
    # The owner's history (versions and snapshots of all their workspaces), shown beside.
    history_bytes: int
    history_quota_bytes: int


class RunCreate(Body):
    """Exactly one of `path` (a workspace file) and `code` (a program's text)."""

    model_config = ConfigDict(
        strict=True,
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["path"],
                    "properties": {"path": {"type": "string"}, "code": {"type": "null"}},
                },
                {
                    "required": ["code"],
                    "properties": {"code": {"type": "string"}, "path": {"type": "null"}},
                },
            ]
        },
    )

    path: WorkspacePath | None = Field(default=None, examples=["main.py"])
    code: str | None = Field(default=None, examples=["print('hello')"])
    stdin: str = Field(default="", description="Written to the program's input first.")
    timeout_s: float | None = Field(default=None, gt=0)
    interactive: bool = Field(
        default=False,
        description="Keep the input open after `stdin`, for `POST /api/runs/{run_id}/stdin`; "
        "otherwise the program reads end-of-file after `stdin`.",
    )


class RunStarted(BaseModel):
    id: str
    status: Literal["running"]


RunStatus = Literal["running", "ok", "error", "timeout", "oom", "killed"]


class RunSegment(BaseModel):
    """Where one piece of a run's output ends, in the order the pieces came."""

    stream: Kind
    end: int = Field(
        description="For text: the end, in code points, within `stdout`, `stderr` or "
        "`typed` (for `stdin`); for `image`: how many plots had been shown."
    )


class RunOutputPiece(BaseModel):
    """A piece of a run's output as a console shows it (`stdin`: input typed meanwhile)."""

    stream: Stream
    text: str


class RunSummary(BaseModel):
    """A run in a list: everything but its output (`GET /api/runs/{run_id}` has that)."""

    id: str
    workspace_id: str
    path: str | None
    status: RunStatus
    exit_code: int | None
    truncated: bool
    duration_ms: int | None
    image_count: int = Field(description="How many plots the run showed.")
    message: str | None
    created_at: Timestamp
    finished_at: Timestamp | None
    interpreter: Literal["warm", "fresh"] | None = Field(
        default=None, description="Which way Python started (see `RunOut.interpreter`)."
    )
    interpreter_note: str | None = Field(
        default=None, description="Why it started fresh, in words (None when warm)."
    )


class RunOut(BaseModel):
    id: str
    workspace_id: str
    path: str | None
    status: RunStatus
    exit_code: int | None
    stdout: str
    stderr: str
    truncated: bool
    duration_ms: int | None
    images: list[str]
    message: str | None
    created_at: Timestamp
    finished_at: Timestamp | None
    input_open: bool = Field(
        default=False,
        description="Whether `POST /api/runs/{run_id}/stdin` takes input now.",
    )
    typed: str = Field(default="", description="The input typed into the run while it ran.")
    interpreter: Literal["warm", "fresh"] | None = Field(
        default=None,
        description="Which way Python started: forked from the sandbox's warm interpreter "
        "(its libraries already imported) or fresh. None while it runs, and for runs that "
        "never started.",
    )
    interpreter_note: str | None = Field(
        default=None, description="Why it started fresh, in words (None when warm)."
    )
    segments: list[RunSegment] | None = Field(
        default=None,
        description="The order its output came in (so far, while it runs), so a client can "
        "show stdout, stderr, typed input and plots interleaved. Text past a stream's last "
        "segment follows them. None for runs recorded before this was kept.",
    )
    output: list[RunOutputPiece] = Field(
        description="`stdout`, `stderr` and `typed` cut by the `segments`, in the order they "
        "came (so far, while it runs), consecutive text of one stream joined: what a console "
        "shows, ready to show. Plots are in `images`.",
    )


class RunStdin(Body):
    text: str = Field(default="", examples=["Ada\n"])
    eof: bool = Field(default=False, description="Then close the input (end of file).")


# The events of `GET /api/runs/{run_id}/events`, each the `data` of one
# server-sent event, told apart by `type`.


class RunStartEvent(BaseModel):
    """First: whether the run takes input; the output so far follows, from `after`."""

    type: Literal["start"]
    input_open: bool
    after: int = Field(
        description="Units of output left out, as seen before (Last-Event-ID); 0: all of it."
    )


class RunOutputEvent(BaseModel):
    """Output in the order it came; `stdin` is input sent while the run ran (an echo)."""

    type: Literal["output"]
    stream: Stream
    text: str


class RunImageEvent(BaseModel):
    """The run showed a plot (matplotlib's `show()`)."""

    type: Literal["image"]
    index: int
    url: str


class RunInputEvent(BaseModel):
    """The run's input opened or closed."""

    type: Literal["input"]
    open: bool


class RunEndEvent(BaseModel):
    """Last: the run as `GET /api/runs/{run_id}` returns it; the stream ends."""

    type: Literal["end"]
    run: RunOut


RunEvent = Annotated[
    RunStartEvent | RunOutputEvent | RunImageEvent | RunInputEvent | RunEndEvent,
    Field(discriminator="type"),
]


class SandboxOut(BaseModel):
    running: bool
    memory_bytes: int | None = None
    memory_limit_bytes: int | None = None
    cpu_seconds: float | None = None
    cpus: float | None = None
    pids: int | None = None
    pids_limit: int | None = None
    oom_kills: int | None = None
    started_at: float | None = None
    expires_at: float | None = None
    last_end: str | None = None
    last_end_message: str | None = None


class RunLimitsOut(BaseModel):
    timeout_s: int = Field(description="A run's time limit when it asks for none.")
    timeout_max_s: int = Field(description="The most a run may ask for; more is capped to it.")
    output_bytes: int = Field(description="Output kept per run; the rest is cut.")
    per_minute: int = Field(description="Runs a user may start per minute.")
    concurrent_per_workspace: int


class SandboxLimitsOut(BaseModel):
    """Shared by everything running in one workspace's sandbox at once."""

    memory_bytes: int
    cpus: float
    pids: int
    open_files: int
    file_size_bytes: int
    tmp_bytes: int
    lifetime_s: int
    idle_s: int


class WorkspaceLimitsOut(BaseModel):
    quota_bytes: int
    quota_files: int
    file_bytes: int = Field(description="The largest file the file API reads or writes.")
    per_user: int = Field(description="Workspaces a user may have.")
    terminals: int = Field(description="Terminals open at once per workspace.")


class UserLimitsOut(BaseModel):
    """Caps on one user over all their workspaces (429 with `Retry-After` past them)."""

    sandboxes: int = Field(description="Sandboxes running or starting at once.")
    sandbox_starts_per_minute: int
    runs_per_minute: int
    concurrent_runs: int
    terminals: int = Field(description="Terminals open at once.")


class LimitsOut(BaseModel):
    """The limits this server applies, as a client should present them."""

    runs: RunLimitsOut
    sandbox: SandboxLimitsOut
    workspaces: WorkspaceLimitsOut
    users: UserLimitsOut
    package_index_hosts: list[str] = Field(
        description="What pip may reach (host:port); nothing else is reachable from a sandbox. "
        "Empty when the package proxy is off."
    )


# Terminals (`sandpit.api.terminals`) and the administrators' command log.


class TerminalCreate(Body):
    rows: JsonInt = Field(default=24, ge=1, le=MAX_ROWS)
    cols: JsonInt = Field(default=80, ge=1, le=MAX_COLS)


class TerminalOut(BaseModel):
    id: str
    workspace_id: str
    created_at: Timestamp
    exited: bool
    exit_code: int | None
    # Why its sandbox ended, when that is what ended it (`lifetime`, `idle`, ...).
    ended: str | None
    clients: int
    rows: int
    cols: int


class CommandLogEntryOut(BaseModel):
    id: int
    user_id: str
    username: str | None
    workspace_id: str
    terminal_id: str
    command: str
    skipped_before: int
    created_at: Timestamp


class CommandLogPage(BaseModel):
    entries: list[CommandLogEntryOut]
    # Pass as `before` for the next (older) page; null on the last page.
    next_before: int | None
