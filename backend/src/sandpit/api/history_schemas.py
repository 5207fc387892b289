"""Bodies of the history and snapshot endpoints (`sandpit.api.history`).

Kept apart from `sandpit.api.schemas` so that module stays the home of the
core resources.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sandpit.api.schemas import Body, Timestamp

VersionSource = Literal["editor", "api", "sandbox", "restore", "import"]


class SnapshotCreate(Body):
    label: str = Field(min_length=1, max_length=200, examples=["Before refactoring"])


class SnapshotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    label: str
    created_at: Timestamp
    files: int
    bytes: int
    automatic: bool = Field(description="Made by Sandpit (before a restore or an import).")


class SnapshotFileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    path: str
    size: int


class SnapshotChange(BaseModel):
    """A file that differs between a snapshot and the workspace now."""

    path: str
    status: Literal["added", "removed", "changed"] = Field(
        description="added: only in the workspace now; removed: only in the snapshot."
    )


class RestoreOut(BaseModel):
    snapshot_before: str = Field(description="The snapshot of the state just before the restore.")
    written: list[str]
    deleted: list[str]


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    path: str
    created_at: Timestamp
    size: int
    source: VersionSource


class HistoryUsage(BaseModel):
    bytes: int
    quota_bytes: int
