"""Runs: execute a file or a code string in the workspace's sandbox; wait, poll or follow.

Following (`GET /api/runs/{id}/events`) is a stream of server-sent events
whose `data` is JSON told apart by `type` (`RunEvent`): `start`, then the
output so far and as it comes (`output`, `image`, `input`), then `end` with
the finished run. Output events carry an `id`, their position in the output
(`sandpit.runs.position`): a browser that reconnects sends the last one back
as `Last-Event-ID` and gets only what it has not seen. The owner check
happens before the stream starts, so another user's run answers 404 like
every other run endpoint.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Header, Query, Response, status
from fastapi.responses import FileResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import WithJsonSchema

from sandpit.api.deps import CurrentUser, DbSession, OwnedWorkspace, Runs
from sandpit.api.errors import responses
from sandpit.api.schemas import (
    RunCreate,
    RunEndEvent,
    RunEvent,
    RunImageEvent,
    RunInputEvent,
    RunOut,
    RunOutputEvent,
    RunOutputPiece,
    RunSegment,
    RunStarted,
    RunStartEvent,
    RunStatus,
    RunStdin,
    RunSummary,
)
from sandpit.db.models import Run
from sandpit.errors import BadRequest
from sandpit.runs import position
from sandpit.runs import service as run_service
from sandpit.runs.live import InputState, Started
from sandpit.runs.output import Image, Text
from sandpit.runs.transcript import Segment
from sandpit.runs.view import RunView

router = APIRouter(tags=["runs"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such run (or another user's)."}
}


# The longest page of runs: summaries are small, and a list is never a bulk export.
MAX_PAGE = 100


def _image_url(run_id: str, index: int) -> str:
    return f"/api/runs/{run_id}/images/{index}"


def run_out(view: RunView) -> RunOut:
    """The run's view (`sandpit.runs.view`), as the API answers it."""
    run, output = view.run, view.output
    return RunOut(
        id=run.id,
        workspace_id=run.workspace_id,
        path=run.path,
        status=cast(RunStatus, run.status),
        exit_code=run.exit_code,
        stdout=output.texts["stdout"],
        stderr=output.texts["stderr"],
        truncated=output.truncated,
        duration_ms=run.duration_ms,
        images=[_image_url(run.id, i) for i in range(output.images)],
        message=run.message,
        created_at=run.created_at,
        finished_at=run.finished_at,
        input_open=view.input_open,
        typed=output.texts["stdin"],
        interpreter=cast(Literal["warm", "fresh"] | None, run.interpreter),
        interpreter_note=run.interpreter_note,
        segments=_segments(output.segments),
        output=[
            RunOutputPiece(stream=piece.stream, text=piece.text)
            for piece in output.pieces
            if isinstance(piece, Text)
        ],
    )


def _segments(segments: list[Segment] | None) -> list[RunSegment] | None:
    if segments is None:
        return None
    return [RunSegment(stream=segment.kind, end=segment.end) for segment in segments]


@router.post(
    "/workspaces/{workspace_id}/runs",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunOut | RunStarted,
    responses={
        200: {"model": RunOut, "description": "With wait=true: the finished run."},
        **responses(
            400,
            404,
            409,
            413,
            429,
            e400="Both or neither of `path` and `code`, an invalid path, or not a file.",
            e404="No such workspace or file.",
            e409="The path is not a file.",
            e413="The code or the input is over 1 MiB.",
            e429="Too many runs in a minute, or at once in the workspace.",
        ),
    },
)
async def create_run(
    body: RunCreate,
    response: Response,
    workspace: OwnedWorkspace,
    user: CurrentUser,
    db: DbSession,
    service: Runs,
    wait: Annotated[bool, Query(description="Answer when the run has finished.")] = False,
) -> RunOut | RunStarted:
    """Run a workspace file (`path`) or a code string (`code`) in the workspace's sandbox."""
    run = await service.start(
        db,
        user,
        workspace,
        path=body.path,
        code=body.code,
        stdin=body.stdin,
        timeout_s=body.timeout_s,
        interactive=body.interactive,
    )
    if not wait:
        return RunStarted(id=run.id, status="running")
    recorded = await service.wait(run.id)
    response.status_code = status.HTTP_200_OK
    if recorded is None:  # recorded before we waited, or its workspace went: read it
        recorded = await service.get_owned(db, user, run.id)
    return run_out(service.view(recorded))


@router.get(
    "/workspaces/{workspace_id}/runs",
    response_model=list[RunSummary],
    responses=responses(404, e404="No such workspace, or 'before' is no run of it."),
)
async def list_runs(
    workspace: OwnedWorkspace,
    db: DbSession,
    service: Runs,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Runs in this page.")] = 20,
    before: Annotated[
        str | None,
        Query(max_length=32, description="The last run id of the previous page."),
    ] = None,
) -> list[RunSummary]:
    """The workspace's runs, newest first, a page at a time, without their output.

    A list never carries outputs (each may be 1 MiB): `GET /api/runs/{run_id}`
    gives a run's output. The next page: `before` = the last id of this one.
    """
    return [
        run_summary(run)
        for run in await service.list_for(db, workspace, limit=limit, before=before)
    ]


def run_summary(run: Run) -> RunSummary:
    return RunSummary(
        id=run.id,
        workspace_id=run.workspace_id,
        path=run.path,
        status=cast(RunStatus, run.status),
        exit_code=run.exit_code,
        truncated=run.truncated,
        duration_ms=run.duration_ms,
        image_count=run.images,
        message=run.message,
        created_at=run.created_at,
        finished_at=run.finished_at,
        interpreter=cast(Literal["warm", "fresh"] | None, run.interpreter),
        interpreter_note=run.interpreter_note,
    )


@router.get("/runs/{run_id}", response_model=RunOut, responses=_NOT_FOUND)
async def get_run(run_id: str, user: CurrentUser, db: DbSession, service: Runs) -> RunOut:
    run = await service.get_owned(db, user, run_id)
    return run_out(service.view(run))


_Events = AsyncGenerator[run_service.RunEvent]


async def _follower(
    run_id: str, user: CurrentUser, db: DbSession, service: Runs
) -> AsyncIterator[tuple[str, _Events]]:
    """The run's events, for its owner; the follower counts until the response has ended."""
    run = await service.get_owned(db, user, run_id)
    # The stream lasts as long as the run: give the connection back to the
    # pool now (the session opens another if it is used again).
    await db.close()
    with service.following(run) as events:
        # Closed here, after the response (and its producer) has ended.
        async with contextlib.aclosing(events):
            yield run.id, events


# Whole numbers up to `position.MAX_POSITION` (a power of ten), as a pattern.
_DIGITS = len(str(position.MAX_POSITION)) - 1
assert position.MAX_POSITION == 10**_DIGITS
_POSITION_PATTERN = f"^(?:[0-9]{{0,{_DIGITS}}}|0[0-9]{{{_DIGITS}}}|{position.MAX_POSITION})$"


def _resume_from(
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="The `id` of the last output event received: the stream resumes after it.",
        ),
        WithJsonSchema({"type": "string", "pattern": _POSITION_PATTERN}),
    ] = None,
) -> int:
    try:
        return position.parse(last_event_id)
    except ValueError:
        raise BadRequest(
            "Last-Event-ID must be the id of an event this stream sent (a whole number)."
        ) from None


@router.get(
    "/runs/{run_id}/events",
    response_class=EventSourceResponse,
    responses={
        **_NOT_FOUND,
        400: {"description": "A Last-Event-ID that is not a position in the output."},
        429: {"description": "Too many followers of this run."},
    },
)
async def run_events(
    follower: Annotated[tuple[str, _Events], Depends(_follower)],
    resume_from: Annotated[int, Depends(_resume_from)],
) -> AsyncIterator[RunEvent]:
    """Follow the run: server-sent events, each `data` a JSON event told apart by `type`.

    `start` first (with `input_open`, and `after`: how much output is left
    out because `Last-Event-ID` said it was seen); then the output so far
    and as it comes, in order: `output` (`stream` `stdout`, `stderr`, or
    `stdin` for input sent meanwhile), `image` (a plot, at its `url`),
    `input` (the input opened or closed); last `end` with the finished run,
    and the stream ends. A finished run is replayed the same way at once.
    Output and image events have an `id`, their end's position in the output.
    """
    run_id, events = follower
    async for event, end in position.after(events, resume_from):
        yield _sent(_event(run_id, event, resume_from), end)


# How soon a browser reconnects after losing the stream (its own default is ~3 s).
RECONNECT_MS = 1000


def _sent(event: RunEvent, end: int | None) -> RunEvent:
    """`event` with its position as the server-sent event's `id`.

    FastAPI sends a `ServerSentEvent` as it is; the route is still typed
    (and documented in OpenAPI) by its `data`, the `RunEvent`.
    """
    retry = RECONNECT_MS if isinstance(event, RunStartEvent) else None
    sent = ServerSentEvent(data=event, id=None if end is None else str(end), retry=retry)
    return cast(RunEvent, sent)


def _event(run_id: str, event: run_service.RunEvent, resume_from: int) -> RunEvent:
    if isinstance(event, Text):
        return RunOutputEvent(type="output", stream=event.stream, text=event.text)
    if isinstance(event, Started):
        return RunStartEvent(type="start", input_open=event.input_open, after=resume_from)
    if isinstance(event, InputState):
        return RunInputEvent(type="input", open=event.open)
    if isinstance(event, Image):
        return RunImageEvent(type="image", index=event.index, url=_image_url(run_id, event.index))
    return RunEndEvent(type="end", run=run_out(event.view))


@router.post(
    "/runs/{run_id}/stdin",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **_NOT_FOUND,
        409: {"description": "The run takes no input: it ended, is not interactive, or hit EOF."},
        413: {"description": "Over 64 KiB at once, or over 1 MiB waiting to be read."},
    },
)
async def send_stdin(
    run_id: str, body: RunStdin, user: CurrentUser, db: DbSession, service: Runs
) -> None:
    """Send `text` to the running program's input (then end of file with `eof`).

    Answers at once; the program reads it when it reads. Only a run started
    with `"interactive": true` takes input while it runs.
    """
    run = await service.get_owned(db, user, run_id)
    service.send_input(run, body.text, eof=body.eof)


@router.post("/runs/{run_id}/stop", response_model=RunOut, responses=_NOT_FOUND)
async def stop_run(run_id: str, user: CurrentUser, db: DbSession, service: Runs) -> RunOut:
    """Stop the run and every process it started; a finished run is returned as it is."""
    run = await service.get_owned(db, user, run_id)
    await service.stop(run.id)
    return run_out(service.view(await service.get_owned(db, user, run_id)))


@router.get(
    "/runs/{run_id}/images/{index}",
    name="run_image",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}, **_NOT_FOUND},
)
async def run_image(
    run_id: str, index: int, user: CurrentUser, db: DbSession, service: Runs
) -> Response:
    """A plot the run showed (matplotlib's `show()`), as PNG; also while the run runs."""
    run = await service.get_owned(db, user, run_id)
    image = service.image(run, index)
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
    if isinstance(image, bytes):
        return Response(image, media_type="image/png", headers=headers)
    return FileResponse(image, media_type="image/png", headers=headers)
