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

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from sandpit.db.models import Run


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


async def prune(db: AsyncSession, workspace_id: str, *, keep: int, max_bytes: int) -> list[str]:
    """Delete the workspace's finished runs past the limits; return their ids.

    In the caller's transaction, which commits it (with the run's own end, in
    one commit: `RunService._record`)."""
    rows = await db.execute(
        select(Run.id, Run.stored_bytes)
        .where(Run.workspace_id == workspace_id, Run.status != "running")
        .order_by(Run.created_at.desc(), Run.id.desc())
    )
    ids = doomed([(run_id, size) for run_id, size in rows], keep, max_bytes)
    if ids:
        await db.execute(delete(Run).where(Run.id.in_(ids), Run.status != "running"))
    return ids
