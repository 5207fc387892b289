"""Which recorded runs a workspace keeps: the newest, within a count and a byte budget.

A run record holds up to the output cap (1 MiB by default) and its plots up
to `MAX_IMAGES` times 8 MiB; kept forever, a user running in a loop fills the
host's disk. After each run is recorded the workspace keeps its newest
`keep` finished runs, and of those only as many, newest first, as fit in
`max_bytes` (`Run.stored_bytes`). The newest finished run is always kept,
whatever its size, so the run just made is never lost to its own size.
A running run is never pruned: it is not counted and not touched.
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from sandpit.db.models import Run

_RUNS = Run.metadata.tables[Run.__tablename__]
# Built once, run with parameters: SQLAlchemy then compiles each once and
# keeps its cache key (see `sandpit.runs.record`).
_SIZES = (
    select(_RUNS.c.id, _RUNS.c.stored_bytes, _RUNS.c.images)
    .where(_RUNS.c.workspace_id == bindparam("workspace_id"), _RUNS.c.status != "running")
    .order_by(_RUNS.c.created_at.desc(), _RUNS.c.id.desc())
)
_DELETE = delete(_RUNS).where(
    _RUNS.c.id.in_(bindparam("ids", expanding=True)), _RUNS.c.status != "running"
)


def doomed(sizes: list[tuple[str, int]], keep: int, max_bytes: int) -> list[str]:
    """Ids to prune from `sizes` ((id, bytes), newest first): past `keep`, or past
    `max_bytes` in all (the first is always kept). Pure; tested directly."""
    total = 0
    pruned = []
    for position, (run_id, size) in enumerate(sizes):
        total += size
        if position > 0 and (position >= keep or total > max_bytes):
            pruned.append(run_id)
            total -= size
    return pruned


async def prune(
    connection: AsyncConnection, workspace_id: str, *, keep: int, max_bytes: int
) -> list[str]:
    """Delete the workspace's finished runs past the limits; return the ids of those
    that showed plots (only they have folders, which are the caller's to remove).

    In the caller's transaction, which commits it (with the run's own end, in
    one commit: `sandpit.runs.record.write`)."""
    rows = (await connection.execute(_SIZES, {"workspace_id": workspace_id})).all()
    ids = doomed([(run_id, size) for run_id, size, _ in rows], keep, max_bytes)
    if not ids:
        return []
    await connection.execute(_DELETE, {"ids": ids})
    pruned = set(ids)
    return [run_id for run_id, _, images in rows if run_id in pruned and images]
