"""Typed settings, read from the environment and `backend/.env`.

One `Settings` object is built by the app factory (never at import time) and
passed to whatever needs it. Every field is documented in `.env.example`;
names are the environment variables, case-insensitive.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sandpit.errors import SandpitError
from sandpit.proxy.policy import Allowlist
from sandpit.sandbox.limits import Limits

BACKEND_DIR = Path(__file__).resolve().parents[2]
REPO_DIR = BACKEND_DIR.parent
MiB = 1024 * 1024

# Secrets that ship in examples and docs; production refuses to run with them.
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "CHANGE_ME_IN_PRODUCTION"})


# The binary data formats ALLOWED_DATA_FORMATS may name; each is described and
# recognised in sandpit.workspaces.dataformats (a test keeps the two in step).
DATA_FORMAT_NAMES = (
    "text",
    "png",
    "jpeg",
    "gif",
    "pdf",
    "xlsx",
    "parquet",
    "arrow",
    "npy",
    "npz",
    "sqlite",
    "zip",
)


class ConfigError(SandpitError):
    """The settings cannot work; raised at start-up, never per request."""


class Settings(BaseSettings):
    """Everything the server can be configured with. Defaults suit development."""

    model_config = SettingsConfigDict(
        env_file=BACKEND_DIR / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    # --- Server -------------------------------------------------------------
    sandpit_env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=3001, ge=1, le=65535)
    # Where workspaces, sandbox state and the SQLite file live.
    python_sandbox_path: Path = REPO_DIR / "data"
    database_url: str = ""
    # The data directory whose images/ holds the sandbox runtime image
    # (default: the data directory itself). Lets several servers share one image.
    image_data_dir: Path | None = None
    jwt_secret: SecretStr = SecretStr("")
    jwt_ttl_s: int = Field(default=12 * 3600, ge=60)
    # Origins allowed to use the session cookie for WebSockets; empty means
    # "the server's own origin only".
    allowed_origins: list[str] = []
    # Set when the server sits behind HTTPS so the cookie is marked Secure.
    cookie_secure: bool = False
    frontend_dir: Path = REPO_DIR / "frontend" / "out"
    log_level: str = "info"
    # Diagnostics: record (and log, with both stacks) every close of a file
    # descriptor that was already closed. On in the test pass; costs a stack
    # capture per close, so off in production.
    fd_guard: bool = False

    # --- Operations: reverse proxy, readiness (issue 18; docs/deployment) ------
    # Addresses or networks of the reverse proxies whose X-Forwarded-For and
    # X-Forwarded-Proto are believed (e.g. ["127.0.0.1"] for a proxy on this
    # host). Empty: none, every request's address is the peer's own. Rate
    # limits by address use the address this yields.
    trusted_proxies: list[str] = []
    # /api/ready reports "disk nearly full" below this much free space.
    ready_min_free_disk_mb: int = Field(default=1024, ge=0)

    # --- Request limits -----------------------------------------------------
    max_request_bytes: int = Field(default=2 * MiB, ge=1024)
    login_attempts_per_address: int = Field(default=30, ge=1)
    login_window_s: int = Field(default=300, ge=1)

    # --- Request rate per user (issue 12: one user's request flood; api/request_rate.py) ---
    # Requests to /api/... (WebSocket upgrades included, /api/health not) per
    # signed-in user, or per client address for requests without a valid
    # session: a token bucket refilling at `user_requests_per_s` and holding
    # `user_request_burst`. Past it: 429 with Retry-After, decided before
    # authentication reads the database. The IDE makes about 15 on a page load
    # and 1 to 4 a second in use (docs/deployment).
    user_requests_per_s: float = Field(default=20.0, gt=0)
    user_request_burst: int = Field(default=200, ge=1)

    # --- Accounts (issue 12 item 4: sign-up, sign-in throttling, invitations) ------
    # Whether anyone may create an account; when False, only with an invitation
    # code (`sandpit invite`, `POST /api/admin/invitations`) or by an administrator.
    signup_open: bool = True
    # Sign-ups (attempts, successful or not) per client address per window.
    signups_per_address: int = Field(default=10, ge=1)
    signup_window_s: int = Field(default=3600, ge=1)
    # Failed sign-ins per (account, address) before delays start; each further
    # failure doubles the delay from `login_delay_base_s` up to `login_delay_max_s`.
    # Another address is never delayed by them, so a stranger cannot lock the owner out.
    login_free_failures: int = Field(default=5, ge=1)
    login_delay_base_s: float = Field(default=1.0, gt=0)
    login_delay_max_s: int = Field(default=300, ge=1)

    # --- Workspaces ---------------------------------------------------------
    max_file_bytes: int = Field(default=1 * MiB, ge=1)
    workspace_quota_bytes: int = Field(default=100 * MiB, ge=1)
    workspace_quota_files: int = Field(default=2000, ge=1)
    max_workspaces_per_user: int = Field(default=50, ge=1)
    # Put each workspace on a loop-mounted filesystem of its quota's size, so
    # files written by user code stop at the quota too (needs root).
    workspace_volumes: bool = True

    # --- Export, import and data files (issue 13, items 5 and 6) ---------------
    # Binary data formats the file API stores besides UTF-8 text, each recognised
    # by its content (names from sandpit.workspaces.dataformats.FORMATS, or "all").
    # Empty (the default): "Python, text files only", as the seed says.
    allowed_data_formats: list[str] = []
    # Largest zip accepted by an import, in bytes (the body is spooled to disk).
    import_max_bytes: int = Field(default=120 * MiB, ge=1024)
    # A zip whose entries expand to more than this many times their compressed
    # size (counted from the data, once past 1 MiB) is refused as a zip bomb.
    import_max_ratio: int = Field(default=100, ge=2)

    # --- History and snapshots (see sandpit.history) ----------------------------
    # Bytes of stored content (versions and snapshots, each distinct content
    # counted once) each user may keep; past it the oldest automatic versions
    # and automatic snapshots go first, named snapshots never.
    history_quota_bytes: int = Field(default=500 * MiB, ge=1)
    # Changes of one file from one source within this many seconds coalesce
    # into one version (autosave, a program rewriting a file in a loop).
    history_coalesce_s: float = Field(default=5.0, ge=0)
    # How often the watcher scans the workspaces whose sandbox is running.
    history_scan_interval_s: float = Field(default=2.0, ge=0.2)

    # --- Submissions and automated checks (issue 14; see sandpit.review) -----------
    # Checks run at once at most (each in a fresh sandbox with the seed's limits);
    # the rest wait in the queue, in order, and survive a restart.
    checks_concurrency: int = Field(default=1, ge=1, le=64)
    # Wall time for one check (ruff and pytest together) before its tests score 0.
    checks_timeout_s: int = Field(default=60, ge=5, le=3600)
    # A check the server stopped in the middle of (a crash) is started again
    # at most this many times in all, then reported as an error.
    checks_max_attempts: int = Field(default=3, ge=1, le=10)
    # Submissions (and review requests) per user per minute.
    submissions_per_minute: int = Field(default=10, ge=1)

    # --- Sandboxes (defaults from the seed's container configuration) ----------
    # bubblewrap (no daemon) or docker (containers on the local engine).
    sandbox_backend: Literal["bubblewrap", "docker"] = "bubblewrap"
    sandbox_memory_mb: int = Field(default=512, ge=32)
    # Memory plus swap; equal to the memory limit means no swap.
    sandbox_memory_swap_mb: int = Field(default=512, ge=32)
    sandbox_cpus: float = Field(default=1.0, gt=0, le=64)
    sandbox_pids: int = Field(default=50, ge=8)
    sandbox_open_files: int = Field(default=100, ge=32)
    sandbox_file_size_mb: int = Field(default=100, ge=1)
    sandbox_tmp_mb: int = Field(default=64, ge=1)
    sandbox_lifetime_s: int = Field(default=30 * 60, ge=10)
    sandbox_idle_s: int = Field(default=10 * 60, ge=10)
    # Host uids handed to sandboxes, one per live sandbox; must be unused on the host.
    sandbox_uid_base: int = Field(default=200_000, ge=1000)
    sandbox_uid_count: int = Field(default=10_000, ge=1)
    # --- Workspace groups (issue 16, security follow-up; see sandbox/uids.py) ---
    # Host gids for workspaces, one per workspace with a running sandbox: its
    # files belong to it and every sandbox on it (the language servers'
    # included) runs with it; its top folder is 0750. Must hold no host group
    # (checked at start) and lie apart from the sandbox uids (checked here).
    sandbox_gid_base: int = Field(default=210_000, ge=1000)
    sandbox_gid_count: int = Field(default=10_000, ge=1)
    # Name of the cgroup (under each controller) that holds every sandbox; with
    # Docker, the containers' cgroup parent and the label that marks this
    # server's containers.
    cgroup_root: str = "sandpit"
    # The Docker backend: the engine's address (None: DOCKER_HOST or the local
    # socket), and how many containers this server runs at most.
    docker_host: str | None = None
    # An image to run instead of importing the built runtime tree (e.g. one
    # built from deploy/docker/Dockerfile and pulled from a registry).
    docker_image: str | None = None
    docker_max_sandboxes: int = Field(default=200, ge=1)
    # Start even where cgroups cannot enforce every limit (never in production).
    accept_weaker_limits: bool = False
    run_timeout_s: int = Field(default=30, ge=1)
    run_timeout_max_s: int = Field(default=300, ge=1)
    run_output_bytes: int = Field(default=1 * MiB, ge=1024)
    runs_per_minute: int = Field(default=60, ge=1)
    concurrent_runs_per_workspace: int = Field(default=4, ge=1)

    # --- Run storage (issue 12 item 3: recorded runs and their plots) -------------
    # Finished runs kept per workspace; older ones (never a running one) are pruned.
    runs_kept_per_workspace: int = Field(default=50, ge=1)
    # Bytes of recorded output and plots per workspace; the oldest finished runs
    # are pruned past it. Reported by `GET .../usage` as `runs_bytes`.
    run_storage_bytes: int = Field(default=64 * MiB, ge=1024)
    # Workspace volumes nobody has used (no sandbox, no file operation) for this
    # long are unmounted; the next use mounts them again.
    workspace_volume_idle_s: int = Field(default=300, ge=1)

    # --- Per-user limits and host admission (issue 12 items 1, 2, 5) -----------
    # See sandpit.sandbox.admission. A user holds at most this many sandboxes
    # (running or starting) and starts at most this many a minute.
    sandboxes_per_user: int = Field(default=3, ge=1)
    sandbox_starts_per_minute: int = Field(default=10, ge=1)
    # Runs running at once and terminals open at once, over all of a user's workspaces.
    concurrent_runs_per_user: int = Field(default=6, ge=1)
    terminals_per_user: int = Field(default=12, ge=1)
    # Memory for all sandboxes together: the cgroup root's limit and the
    # admission budget. Unset: SANDBOXES_MEMORY_SHARE of the host's memory,
    # leaving the rest to the server, the database and the page cache.
    sandboxes_memory_mb: int | None = Field(default=None, ge=64)
    sandboxes_memory_share: float = Field(default=0.6, gt=0, le=1)
    # CPUs for all sandboxes together (the root's CFS quota). Unset:
    # SANDBOXES_CPU_SHARE of the host's CPUs, at least one.
    sandboxes_cpus: float | None = Field(default=None, gt=0)
    sandboxes_cpu_share: float = Field(default=0.75, gt=0, le=1)
    # Memory a starting sandbox is counted for until it can be measured
    # (about a typical sandbox's; docs/deployment has the measurements).
    sandbox_start_reserve_mb: int = Field(default=120, ge=1)
    # Retry-After of a refused start (cap reached, host full).
    admission_retry_s: int = Field(default=10, ge=1, le=600)
    # GET /metrics: a scraper sends `Authorization: Bearer <token>`; empty:
    # only a signed-in administrator may read it.
    metrics_token: SecretStr = SecretStr("")

    # --- Terminals (see sandpit.terminals) ---------------------------------------
    terminals_per_workspace: int = Field(default=8, ge=1, le=64)
    # Windows (WebSocket clients) attached to one terminal at once.
    terminal_clients: int = Field(default=8, ge=1, le=64)
    # How long a terminal nobody is attached to lives on (never beyond its sandbox).
    terminal_grace_s: int = Field(default=3600, ge=1)
    # Recent output kept per terminal and replayed when a client (re)attaches.
    terminal_ring_bytes: int = Field(default=1 * MiB, ge=1024, le=64 * MiB)
    # An input line longer than this is refused (the seed's limit on a single input).
    terminal_input_line_bytes: int = Field(default=64 * 1024, ge=256)
    # Command lines recorded per user per minute; older rows beyond the cap are pruned.
    command_log_per_minute: int = Field(default=120, ge=1)
    command_log_max_rows: int = Field(default=100_000, ge=100)

    # --- Language servers (issue 16; see docs/architecture/language-server.md) ---
    # The editor's completion, hover, diagnostics and formatting (pyrefly and
    # ruff in a sandbox of their own per open workspace); off: the editor has none.
    lsp_enabled: bool = True
    # That sandbox's memory (pyrefly with numpy, pandas and matplotlib in use
    # measured ~180 MiB, ruff ~25 MiB); the user's own sandbox keeps its limit.
    lsp_memory_mb: int = Field(default=384, ge=128, le=8192)
    lsp_cpus: float = Field(default=1.0, gt=0, le=16)
    # Processes and threads in it (pyrefly's thread pool counts).
    lsp_pids: int = Field(default=64, ge=8, le=1024)
    # A socket with no message from the editor for this long is closed (4408)
    # and its servers stop; the editor reconnects on the next edit.
    lsp_idle_s: int = Field(default=600, ge=5)
    # Largest LSP message from the editor (a whole document travels in didOpen).
    # At most 1 MiB: the server's WebSocket frames stop there.
    lsp_message_max_bytes: int = Field(default=1 * MiB, ge=64 * 1024, le=1 * MiB)
    # Messages from one editor per second (sustained) and in a burst; over it: closed 1008.
    lsp_messages_per_s: float = Field(default=100.0, gt=0)
    lsp_message_burst: int = Field(default=300, ge=1)

    # --- Warm runs (issue 15; see docs/architecture/warm-runs.md) -----------------
    # Fork each Python run from a pre-imported interpreter kept per sandbox
    # (started after the sandbox's first run ends); off: every run is fresh.
    warm_interpreter: bool = True
    # The modules it imports (with everything they import), a JSON list.
    warm_preload: list[str] = [
        "numpy",
        "pandas",
        "scipy",
        "matplotlib",
        "matplotlib.pyplot",
        "sandpit_plots",
    ]

    @field_validator("warm_preload")
    @classmethod
    def _module_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not all(part.isidentifier() for part in name.split(".")):
                raise ValueError(f"{name!r} is not a module name")
        return value

    # --- Package proxy (the only way out of a sandbox; see sandpit.proxy) --------
    package_proxy_enabled: bool = True
    # host:port pairs the proxy tunnels to (HTTPS CONNECT); everything else is refused.
    package_proxy_allowed_hosts: list[str] = ["pypi.org:443", "files.pythonhosted.org:443"]
    # Of those, the ones that may be on this host or its private network (an index
    # mirror; the tests' local index): never refused for their address.
    package_proxy_local_hosts: list[str] = []
    # The CA bundle pip trusts inside sandboxes (mounted read-only); empty: the image's own.
    package_proxy_ca_bundle: Path | None = Path("/etc/ssl/certs/ca-certificates.crt")
    # Tunnels at once per sandbox; bytes per workspace per window; tunnel idle and lifetime.
    package_proxy_connections: int = Field(default=16, ge=1, le=64)
    package_proxy_window_mb: int = Field(default=500, ge=1)
    package_proxy_window_s: int = Field(default=3600, ge=1)
    package_proxy_idle_s: int = Field(default=60, ge=1)
    package_proxy_connection_s: int = Field(default=600, ge=1)
    package_proxy_header_bytes: int = Field(default=8192, ge=256, le=65536)
    # --- Package proxy fairness (issue 12): tunnels at once per user, across
    # all their sandboxes, so one user cannot take the server's pool of 512.
    package_proxy_connections_per_user: int = Field(default=32, ge=1, le=512)

    @field_validator("package_proxy_allowed_hosts", "package_proxy_local_hosts")
    @classmethod
    def _host_ports(cls, value: list[str]) -> list[str]:
        Allowlist.parse(value)  # raises ValueError naming the bad entry
        return value

    @model_validator(mode="after")
    def _local_hosts_are_allowed(self) -> Settings:
        Allowlist.parse(self.package_proxy_allowed_hosts, self.package_proxy_local_hosts)
        return self

    @model_validator(mode="after")
    def _gids_apart_from_uids(self) -> Settings:
        uids = range(self.sandbox_uid_base, self.sandbox_uid_base + self.sandbox_uid_count)
        gids = range(self.sandbox_gid_base, self.sandbox_gid_base + self.sandbox_gid_count)
        if uids.start < gids.stop and gids.start < uids.stop:
            raise ValueError(
                f"the workspace gids ({gids.start}-{gids.stop - 1}) overlap the sandbox uids"
                f" ({uids.start}-{uids.stop - 1}); move SANDBOX_GID_BASE"
            )
        return self

    @field_validator("allowed_data_formats")
    @classmethod
    def _data_formats(cls, value: list[str]) -> list[str]:
        names = [name.strip().lower() for name in value if name.strip()]
        if "all" in names:
            return list(DATA_FORMAT_NAMES)
        unknown = sorted(set(names) - set(DATA_FORMAT_NAMES))
        if unknown:
            raise ValueError(
                f"unknown data formats {unknown}; known: {', '.join(DATA_FORMAT_NAMES)} (or all)"
            )
        return names

    @field_validator(
        "package_proxy_ca_bundle",
        "docker_host",
        "docker_image",
        "sandboxes_memory_mb",
        "sandboxes_cpus",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("python_sandbox_path", "frontend_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def data_dir(self) -> Path:
        """The data directory (`PYTHON_SANDBOX_PATH`)."""
        return self.python_sandbox_path

    @property
    def images_data_dir(self) -> Path:
        return self.image_data_dir or self.data_dir

    @property
    def workspaces_dir(self) -> Path:
        return self.data_dir / "workspaces"

    @property
    def blobs_dir(self) -> Path:
        """Where history and snapshot contents live, one file per SHA-256."""
        return self.data_dir / "blobs"

    @property
    def limits(self) -> Limits:
        """The sandbox limits these settings describe."""
        return Limits(
            memory_bytes=self.sandbox_memory_mb * MiB,
            memory_swap_bytes=max(self.sandbox_memory_swap_mb, self.sandbox_memory_mb) * MiB,
            cpus=self.sandbox_cpus,
            pids=self.sandbox_pids,
            open_files=self.sandbox_open_files,
            file_size_bytes=self.sandbox_file_size_mb * MiB,
            tmp_bytes=self.sandbox_tmp_mb * MiB,
            lifetime_s=self.sandbox_lifetime_s,
            idle_s=self.sandbox_idle_s,
        )

    @property
    def sandboxes_memory_bytes(self) -> int:
        """Memory for all sandboxes together (`SANDBOXES_MEMORY_MB`, else a share of the host's)."""
        if self.sandboxes_memory_mb is not None:
            return self.sandboxes_memory_mb * MiB
        return int(host_memory_bytes() * self.sandboxes_memory_share)

    @property
    def sandboxes_cpu_limit(self) -> float:
        """CPUs for all sandboxes together (`SANDBOXES_CPUS`, else a share of the host's)."""
        if self.sandboxes_cpus is not None:
            return self.sandboxes_cpus
        return max(1.0, (os.cpu_count() or 1) * self.sandboxes_cpu_share)

    @property
    def is_production(self) -> bool:
        return self.sandpit_env == "production"

    def effective_database_url(self) -> str:
        """`DATABASE_URL`, or the SQLite file in the data directory when unset."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'sandpit.db'}"

    def resolve_jwt_secret(self) -> str:
        """Return the signing secret, generating a development one on first run.

        In development a missing secret is generated once and kept in
        `DATA_DIR/jwt_secret` (mode 0600), so tokens survive restarts. In
        production a missing or placeholder secret raises `ConfigError`: a
        guessable secret would let anyone mint tokens.
        """
        secret = self.jwt_secret.get_secret_value()
        if secret not in PLACEHOLDER_SECRETS:
            if self.is_production and len(secret) < 32:
                raise ConfigError("JWT_SECRET must be at least 32 characters in production.")
            return secret
        if self.is_production:
            raise ConfigError(
                "JWT_SECRET is missing or a placeholder; set a long random value "
                "(for example `openssl rand -hex 32`) before starting in production."
            )
        path = self.data_dir / "jwt_secret"
        private_data_dir(self.data_dir)
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            pass
        generated = secrets.token_hex(32)
        # O_EXCL: two processes starting at once must agree on one secret.
        try:
            fd = _create_private(path)
        except FileExistsError:
            return path.read_text().strip()
        with open(fd, "w") as handle:
            handle.write(generated + "\n")
        return generated


DATA_DIR_MODE = 0o700
"""The data directory's mode: the server's alone (see `private_data_dir`)."""


def private_data_dir(path: Path) -> None:
    """Create the data directory if needed and close it to other host users.

    Mode 0700: no one else may list it, look a name up in it or open what it
    holds (the database and the secret are 0600 as well, plots 0600 in 0700
    folders). Sandboxes need no way in: bubblewrap, which runs as each
    sandbox's unprivileged uid and resolves every source by its path (even
    one given by descriptor), finds the image, the workspace and the proxy
    socket folder in a tmpfs the launcher mounts over this directory in a
    mount namespace of its own (`sandbox.backends.bubblewrap.staged_layout`).
    Only the directories above it must be searchable, as usual.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, DATA_DIR_MODE)


def host_memory_bytes() -> int:
    """The host's memory (MemTotal of /proc/meminfo; sysconf where that cannot be read)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _create_private(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
