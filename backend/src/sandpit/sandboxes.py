"""Building the sandbox subsystem from the settings, or saying why it cannot run here.

`BACKENDS` maps each `SANDBOX_BACKEND` name to the function that builds that
backend from the settings, the runtime image and the cgroup driver; a new
backend (Kubernetes next) is a module in `sandpit/sandbox/backends/` and one
entry here. This module sits above `sandbox/`, beside the app factory: it is
the one place that knows the settings, the image, the proxy and the
workspace store together, so `sandbox/` needs none of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import docker.errors

from sandpit.config import Settings
from sandpit.errors import SandpitError
from sandpit.metrics import Metrics
from sandpit.proxy.limits import MiB, ProxyLimits
from sandpit.proxy.policy import Allowlist
from sandpit.proxy.server import PackageProxy
from sandpit.runtime.docker_image import DockerImageError, ensure_docker_image
from sandpit.runtime.image import RuntimeImage, find_image
from sandpit.sandbox import cgroups
from sandpit.sandbox.admission import Admission, AdmissionLimits
from sandpit.sandbox.backends.bubblewrap import BubblewrapBackend, font_cache_of
from sandpit.sandbox.backends.docker import DockerBackend, connect_engine, engine_problem
from sandpit.sandbox.base import SandboxBackend, SandboxError
from sandpit.sandbox.manager import SandboxManager
from sandpit.sandbox.uids import GroupPool, UidPool, host_groups_in
from sandpit.security.ratelimit import MemoryRateLimiter, RateLimiter
from sandpit.workspaces.store import mounted_workspace_dir

log = logging.getLogger(__name__)


class SandboxSetupError(SandpitError):
    """Sandboxes cannot run on this host as configured; the sentence says why."""

    status_code = 503


async def build_manager(
    settings: Settings,
    limiter: RateLimiter | None = None,
    metrics: Metrics | None = None,
) -> SandboxManager:
    """The sandbox manager for the configured backend, opened (orphans reaped).

    The cgroup root that holds every sandbox gets the host-wide limits
    (`Settings.sandboxes_memory_bytes`, `sandboxes_cpu_limit`), and starts
    pass admission (see `sandpit.sandbox.admission`) against the per-user
    caps, counted in `limiter`, and the same memory budget.
    Raises `SandboxSetupError` naming what is missing: the runtime image, a
    cgroup controller, the launcher's compiler.
    """
    image = find_image(settings.images_data_dir)
    if image is None:
        raise SandboxSetupError(
            "The runtime image is not built; run `make run` (or `make image`) to build it."
        )
    try:
        driver = await asyncio.to_thread(
            cgroups.detect, settings.cgroup_root, accept_weaker=settings.accept_weaker_limits
        )
    except cgroups.CgroupUnavailable as exc:
        raise SandboxSetupError(
            f"{exc.detail} Set ACCEPT_WEAKER_LIMITS=true to run anyway with weaker limits."
        ) from exc
    for gap in getattr(driver, "missing", ()):
        log.warning("cgroups will not enforce: %s", gap)
    build = BACKENDS.get(settings.sandbox_backend)
    if build is None:
        raise SandboxSetupError(
            f"There is no sandbox backend named {settings.sandbox_backend!r};"
            f" choose one of {', '.join(sorted(BACKENDS))}."
        )
    backend = await build(settings, image, driver)
    budget = settings.sandboxes_memory_bytes
    await asyncio.to_thread(_limit_root, driver, budget, settings.sandboxes_cpu_limit)

    def refused(reason: str, _user_id: str, _detail: str) -> None:
        if metrics is not None:
            metrics.admission_refusals.labels(reason=reason).inc()

    admission = Admission(
        AdmissionLimits(
            sandboxes_per_user=settings.sandboxes_per_user,
            starts_per_minute=settings.sandbox_starts_per_minute,
            memory_budget_bytes=budget,
            start_reserve_bytes=settings.sandbox_start_reserve_mb * MiB,
            retry_after_s=settings.admission_retry_s,
        ),
        limiter or MemoryRateLimiter(),
        driver.root_memory_in_use,
        refused,
    )
    manager = SandboxManager(
        backend,
        settings.limits,
        lambda workspace_id: mounted_workspace_dir(settings, workspace_id),
        admission=admission,
        on_started=metrics.sandbox_started if metrics is not None else lambda seconds: None,
    )
    await manager.open()
    return manager


def _limit_root(driver: cgroups.CgroupDriver, memory_bytes: int, cpus: float) -> None:
    """Put the host-wide limits on the cgroup root of every sandbox.

    Where the kernel refuses (a v1 root already above a lower limit answers
    EBUSY), the server still starts: admission keeps to the budget, and the
    log says the backstop is missing.
    """
    try:
        driver.limit_root(cgroups.RootLimits(memory_bytes=memory_bytes, cpus=cpus))
    except cgroups.CgroupError as exc:
        log.error("the sandboxes' cgroup root has no host-wide limit: %s", exc)
        return
    log.info(
        "all sandboxes together: at most %d MiB of memory and %.2f CPUs",
        memory_bytes // MiB,
        cpus,
    )


async def _bubblewrap_backend(
    settings: Settings, image: RuntimeImage, driver: cgroups.CgroupDriver
) -> SandboxBackend:
    """The bubblewrap backend on the image's root filesystem (compiles the launcher once)."""
    return await asyncio.to_thread(
        lambda: BubblewrapBackend(
            rootfs=image.rootfs,
            state_dir=settings.data_dir / "sandboxes",
            stage_dir=settings.data_dir,
            driver=driver,
            uids=UidPool(settings.sandbox_uid_base, settings.sandbox_uid_count),
            gids=workspace_groups(settings),
            font_cache=font_cache_of(image.metadata(), image.rootfs),
            proxy=build_proxy(settings),
            ca_bundle=ca_bundle_for(settings, image.rootfs),
        )
    )


async def _docker_backend(
    settings: Settings, image: RuntimeImage, driver: cgroups.CgroupDriver
) -> SandboxBackend:
    """The Docker backend on the local engine, the runtime image imported into it first."""
    gids = await asyncio.to_thread(workspace_groups, settings)
    try:
        client = await asyncio.to_thread(connect_engine, settings.docker_host)
    except SandboxError as exc:
        raise SandboxSetupError(exc.detail) from exc
    problem = engine_problem(await asyncio.to_thread(client.info))
    if problem is not None:
        client.close()
        raise SandboxSetupError(problem)
    font_cache = font_cache_of(image.metadata(), image.rootfs)
    try:
        if settings.docker_image is not None:
            tag = settings.docker_image
            await asyncio.to_thread(client.images.get, tag)
            font_cache = None  # the built tree's font list need not match that image
        else:
            tag = await asyncio.to_thread(ensure_docker_image, client, image)
    except (DockerImageError, docker.errors.DockerException) as exc:
        client.close()
        raise SandboxSetupError(f"The runtime image is not available to Docker: {exc}") from exc
    return DockerBackend(
        client=client,
        image=tag,
        state_dir=settings.data_dir / "sandboxes",
        driver=driver,
        instance=settings.cgroup_root,
        max_sandboxes=settings.docker_max_sandboxes,
        uids=UidPool(settings.sandbox_uid_base, settings.sandbox_uid_count),
        gids=gids,
        font_cache=font_cache,
        proxy=build_proxy(settings),
        ca_bundle=ca_bundle_for(settings, image.rootfs),
    )


def workspace_groups(settings: Settings) -> GroupPool:
    """The workspaces' gid pool; raises `SandboxSetupError` if a host group is in its range."""
    taken = host_groups_in(settings.sandbox_gid_base, settings.sandbox_gid_count)
    if taken:
        raise SandboxSetupError(
            f"Host groups use gids {taken[:5]} in the workspaces' range"
            f" (SANDBOX_GID_BASE={settings.sandbox_gid_base},"
            f" SANDBOX_GID_COUNT={settings.sandbox_gid_count}); choose a free range."
        )
    return GroupPool(settings.sandbox_gid_base, settings.sandbox_gid_count)


BackendBuilder = Callable[[Settings, RuntimeImage, cgroups.CgroupDriver], Awaitable[SandboxBackend]]

BACKENDS: dict[str, BackendBuilder] = {
    "bubblewrap": _bubblewrap_backend,
    "docker": _docker_backend,
}


def build_proxy(settings: Settings) -> PackageProxy | None:
    """The package proxy the settings describe (None when disabled), its old sockets removed."""
    if not settings.package_proxy_enabled:
        log.warning("the package proxy is disabled: pip cannot install packages in sandboxes")
        return None
    limits = ProxyLimits(
        connections=settings.package_proxy_connections,
        owner_connections=settings.package_proxy_connections_per_user,
        window_bytes=settings.package_proxy_window_mb * MiB,
        window_s=settings.package_proxy_window_s,
        idle_s=settings.package_proxy_idle_s,
        connection_s=settings.package_proxy_connection_s,
        header_bytes=settings.package_proxy_header_bytes,
    )
    proxy = PackageProxy(
        Allowlist.parse(settings.package_proxy_allowed_hosts, settings.package_proxy_local_hosts),
        limits,
        settings.data_dir / "sandboxes" / "proxy",
    )
    proxy.reap()
    return proxy


def ca_bundle_for(settings: Settings, rootfs: Path) -> Path | None:
    """The CA bundle to mount in sandboxes: the configured one, else the image's own."""
    configured = settings.package_proxy_ca_bundle
    if configured is not None:
        if configured.is_file():
            return configured.resolve()
        log.error("PACKAGE_PROXY_CA_BUNDLE %s is not a file; using the image's own", configured)
    own = rootfs / "etc/ssl/certs/ca-certificates.crt"
    return own if own.is_file() and not own.is_symlink() else None
