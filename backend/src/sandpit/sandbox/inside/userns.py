"""The Docker agent's first act: a user namespace of its own, then no privilege at all.

THIS FILE RUNS INSIDE THE SANDBOX (standard library only, nothing from
`sandpit`), in the agent, before it connects to the server and before any
other process of the sandbox exists.

A Docker container is started as a host uid of its own (one per sandbox;
`sandpit.sandbox.backends.docker_options` says why), which the contract's
uid 1000 must become. `enter` does, in this order, each step required by
the next:

1. unshare(CLONE_NEWUSER): the one call the container's seccomp profile
   leaves to this process;
2. map the host uid and gid (and only them) to `SANDPIT_USERNS_ID` (1000),
   with setgroups denied, as an unprivileged process may;
3. drop every capability the new namespace gave this process: the bounding
   set, then the permitted, effective and inheritable sets (its children
   exec as uid 1000 with none anyway; the agent needs none);
4. load the sandbox's seccomp filter (`SANDPIT_AGENT_SECCOMP`, classic BPF
   written by the server), stacked on the profile: it refuses unshare and
   every other namespace call from now on, for this process and all it forks.

Any failure raises `OSError`: the agent then exits without connecting and
the sandbox does not start. Where `SANDPIT_USERNS_ID` is not set (the
bubblewrap backend, whose launcher made the namespace), nothing is done.
"""

from __future__ import annotations

import ctypes
import os

CLONE_NEWUSER = 0x10000000
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
CAP_LAST_POSSIBLE = 63
BPF_INSTRUCTION_BYTES = 8
MAX_PROGRAM_BYTES = 4096 * BPF_INSTRUCTION_BYTES  # the kernel's BPF_MAXINSNS


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def enter(libc: ctypes.CDLL) -> None:
    """Become `SANDPIT_USERNS_ID` in a new user namespace, unprivileged and filtered."""
    inside = os.environ.get("SANDPIT_USERNS_ID")
    if not inside:
        return
    program = _read_program(os.environ["SANDPIT_AGENT_SECCOMP"])
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(CLONE_NEWUSER), "unshare")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{int(inside)} {uid} 1")
    _write("/proc/self/gid_map", f"{int(inside)} {gid} 1")
    _drop_capabilities(libc)
    _load_filter(libc, program)


def _read_program(path: str) -> bytes:
    with open(path, "rb") as source:
        program = source.read(MAX_PROGRAM_BYTES + 1)
    if not program or len(program) % BPF_INSTRUCTION_BYTES or len(program) > MAX_PROGRAM_BYTES:
        raise OSError(f"{path} is not a seccomp program")
    return program


def _drop_capabilities(libc: ctypes.CDLL) -> None:
    for cap in range(CAP_LAST_POSSIBLE + 1):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            if ctypes.get_errno() == 22:  # EINVAL: past the kernel's last capability
                break
            _check(-1, f"dropping capability {cap} from the bounding set")
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()  # all zero: no capability in any set
    _check(libc.capset(ctypes.byref(header), data), "capset")


def _load_filter(libc: ctypes.CDLL, program: bytes) -> None:
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // BPF_INSTRUCTION_BYTES, ctypes.addressof(buffer))
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(
        libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0),
        "loading the seccomp filter",
    )


def _write(path: str, text: str) -> None:
    with open(path, "w") as target:
        target.write(text)


def _check(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")
