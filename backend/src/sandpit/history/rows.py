"""The history tables' bulk statements: blob rows made if new, the newest versions of paths.

Both go in chunks of `CHUNK` values, under every database's limit on bound
parameters in one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sandpit.db.models import FileVersion, HistoryBlob

CHUNK = 500  # bound parameters per IN (...) query


@dataclass(frozen=True)
class Stored:
    """A file's content as stored: its path, blob name and size."""

    path: str
    sha256: str
    size: int


async def latest_versions(
    db: AsyncSession, workspace_id: str, paths: Sequence[str]
) -> dict[str, FileVersion]:
    """The newest version of each of `paths` in the workspace (a path without one: absent)."""
    latest: dict[str, FileVersion] = {}
    unique = sorted(set(paths))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        newest = (
            select(FileVersion.path, func.max(FileVersion.created_at).label("at"))
            .where(FileVersion.workspace_id == workspace_id, FileVersion.path.in_(chunk))
            .group_by(FileVersion.path)
            .subquery()
        )
        rows = await db.scalars(
            select(FileVersion)
            .join(
                newest,
                (FileVersion.path == newest.c.path) & (FileVersion.created_at == newest.c.at),
            )
            .where(FileVersion.workspace_id == workspace_id)
        )
        for version in rows:
            latest[version.path] = version
    return latest


async def ensure_blob_rows(db: AsyncSession, stored: Sequence[Stored]) -> None:
    """Insert a `history_blobs` row for each new blob (concurrent inserts are fine)."""
    sizes = {s.sha256: s.size for s in stored}
    if not sizes:
        return
    dialect = db.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    now = datetime.now(UTC)
    items = sorted(sizes.items())
    for start in range(0, len(items), CHUNK):
        rows = [
            {"sha256": sha, "size": size, "created_at": now}
            for sha, size in items[start : start + CHUNK]
        ]
        await db.execute(insert(HistoryBlob).values(rows).on_conflict_do_nothing())
