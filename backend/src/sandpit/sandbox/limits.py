"""The resource limits of one sandbox, with the seed's defaults."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Limits applied to a whole sandbox (every process in it together).

    Defaults come from the seed's container configuration: 512 MiB of
    memory with no swap, one CPU, 50 processes, 100 open files, a 30-minute
    lifetime.
    """

    memory_bytes: int = 512 * MiB
    # Memory plus swap; equal to memory_bytes means "no swap".
    memory_swap_bytes: int = 512 * MiB
    cpus: float = 1.0
    pids: int = 50
    open_files: int = 100
    # Largest file a process may write (RLIMIT_FSIZE).
    file_size_bytes: int = 100 * MiB
    tmp_bytes: int = 64 * MiB
    lifetime_s: int = 30 * 60
    idle_s: int = 10 * 60
