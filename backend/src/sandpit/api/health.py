"""Liveness (`/health`, cheap: touches nothing) and readiness (`/ready`, says what is wrong).

`/health` answers as long as the process serves requests: a service manager
restarts the server when it stops answering. `/ready` checks what serving
users needs, for a load balancer or an operator: the database answers, the
sandboxes can run (runtime image present, cgroups usable), and the data
directory's disk is not nearly full. It answers 503 naming every problem.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Coroutine
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from sandpit.api.deps import Context
from sandpit.context import AppContext
from sandpit.runtime.image import find_image
from sandpit.sandbox import cgroups

router = APIRouter(tags=["health"])

# A check that takes longer than this counts as failed: a readiness probe
# must answer quickly even when the database hangs.
CHECK_TIMEOUT_S = 3.0
MiB = 1024 * 1024


CheckName = Literal["database", "image", "cgroups", "disk"]


class ReadinessCheck(BaseModel):
    name: CheckName
    ok: bool
    detail: str


class ReadinessOut(BaseModel):
    """Whether the server can serve users; `detail` names every problem (or says "Ready.")."""

    status: Literal["ready", "not_ready"]
    detail: str
    checks: list[ReadinessCheck]


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=ReadinessOut,
    responses={503: {"model": ReadinessOut, "description": "Not ready; `detail` says why."}},
)
async def ready(context: Context) -> JSONResponse:
    """Readiness: 200 when the database, the sandboxes and the disk are fine, else 503."""
    checks = list(
        await asyncio.gather(_database(context), _image(context), _cgroups(context), _disk(context))
    )
    problems = [check.detail for check in checks if not check.ok]
    body = ReadinessOut(
        status="not_ready" if problems else "ready",
        detail=" ".join(problems) if problems else "Ready.",
        checks=checks,
    )
    return JSONResponse(body.model_dump(), status_code=503 if problems else 200)


async def _timed(name: CheckName, probe: Coroutine[Any, Any, str | None]) -> ReadinessCheck:
    """Run `probe` (giving a problem sentence, or None when fine) within the timeout."""
    try:
        problem = await asyncio.wait_for(probe, CHECK_TIMEOUT_S)
    except TimeoutError:
        problem = f"The {name} check did not answer within {CHECK_TIMEOUT_S:.0f} s."
    return ReadinessCheck(name=name, ok=problem is None, detail=problem or "ok")


async def _database(context: AppContext) -> ReadinessCheck:
    async def probe() -> str | None:
        try:
            async with context.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            return f"The database is unreachable ({type(exc).__name__})."
        return None

    return await _timed("database", probe())


async def _image(context: AppContext) -> ReadinessCheck:
    async def probe() -> str | None:
        if context.sandbox_unavailable is not None:
            return f"Sandboxes cannot run: {context.sandbox_unavailable}"
        found = await asyncio.to_thread(find_image, context.settings.images_data_dir)
        return None if found is not None else "The runtime image is missing; run `make image`."

    return await _timed("image", probe())


async def _cgroups(context: AppContext) -> ReadinessCheck:
    settings = context.settings

    async def probe() -> str | None:
        try:
            await asyncio.to_thread(
                cgroups.detect, settings.cgroup_root, accept_weaker=settings.accept_weaker_limits
            )
        except cgroups.CgroupUnavailable as exc:
            return f"cgroups are unusable: {exc.detail}"
        return None

    return await _timed("cgroups", probe())


async def _disk(context: AppContext) -> ReadinessCheck:
    settings = context.settings

    async def probe() -> str | None:
        usage = await asyncio.to_thread(shutil.disk_usage, settings.data_dir)
        if usage.free < settings.ready_min_free_disk_mb * MiB:
            return (
                f"The data directory's disk is nearly full ({usage.free // MiB} MiB free, "
                f"below READY_MIN_FREE_DISK_MB={settings.ready_min_free_disk_mb})."
            )
        return None

    return await _timed("disk", probe())
