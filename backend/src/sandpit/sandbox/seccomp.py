"""The seccomp filter every sandbox runs under, compiled by libseccomp.

`seccomp_filter()` returns the classic BPF program (an array of `struct
sock_filter`) that `bwrap --seccomp FD` loads just before it executes the
sandbox's first process. Everything is allowed except the calls below, which
fail with EPERM, so a program sees a clean error instead of being killed:

- Mounts (mount, umount2, pivot_root, chroot and the new mount API: open_tree,
  open_tree_attr, move_mount, fsopen, fsconfig, fsmount, fspick,
  mount_setattr): the file system view is fixed by bubblewrap; remounting
  could expose or hide host paths.
- Namespaces (unshare with any flags, setns, clone with any CLONE_NEW* flag):
  a nested user namespace hands its creator every capability inside it, the
  first step of most recent kernel exploits. unshare has no other use worth
  the risk (Docker refuses it too), and refusing it whole keeps out namespace
  flags that future kernels add.
- clone3 fails with ENOSYS instead: its flags sit in memory, where a filter
  cannot read them, and ENOSYS makes glibc fall back to clone, whose flags the
  rule above checks (as Docker and Flatpak do).
- Other processes' memory (ptrace, process_vm_readv, process_vm_writev,
  pidfd_getfd): debugging and peeking across processes.
- Kernel attack surface that user code does not need: bpf, perf_event_open,
  userfaultfd (a tool for winning kernel races), io_uring_setup,
  io_uring_enter, io_uring_register (a long record of privilege escalations;
  Docker refuses it too), and the kernel keyring (keyctl, add_key,
  request_key), which is not namespaced.
- The kernel itself: module loading (init_module, finit_module,
  delete_module), kexec_load, kexec_file_load, reboot, swapon, swapoff, acct,
  syslog, quotactl, quotactl_fd, lookup_dcookie, nfsservctl, uselib, and
  iopl and ioperm (raw I/O ports, x86 only).
- File handles (open_by_handle_at, name_to_handle_at): they open files by
  inode number, past every mount and path check ("shocker" escaped Docker so).
- Terminals: ioctl TIOCSTI and TIOCLINUX push keystrokes into a terminal's
  input, which could type commands into a shell outside the sandbox; vhangup.
- Clocks (settimeofday, clock_settime, adjtimex, clock_adjtime): the host's
  time is not the sandbox's to set.
- personality with anything but 0 (the default) or 0xffffffff (a query):
  other personas turn off address space randomization or make data
  executable, which helps exploits.
- Socket families (socket, socketpair) but the four Python programs use:
  AF_UNIX, AF_INET, AF_INET6, and AF_NETLINK with protocol NETLINK_ROUTE
  (glibc's getaddrinfo and ifaddrs read addresses through it). Every other
  family fails with EAFNOSUPPORT, as on a kernel built without it: AF_VSOCK
  reaches the hypervisor past any network namespace, AF_PACKET, AF_KEY,
  AF_ALG, AF_BLUETOOTH and the other netlink protocols are kernel surface
  nobody's homework needs. The family is compared on its low 32 bits (the
  kernel reads an int); a value above the highest family we list is refused
  whatever it holds.
- Other system call ABIs fail with ENOSYS: on x86_64 the i386 ABI (`int 0x80`)
  and x32 number their calls differently and would otherwise slip past every
  rule above. No program in the runtime image uses them.

ioctl's request is compared on its low 32 bits, all the kernel reads of it,
so stray upper bits cannot slip TIOCSTI past the rule (CVE-2019-10063 in
Flatpak was exactly this); personality refuses any value with upper bits set.
The price: debuggers and tracers (gdb, strace, py-spy) do not work inside.

Runtime dependency: libseccomp 2.4 or newer (Debian package `libseccomp2`),
loaded with ctypes. Supported architectures: x86_64 and aarch64.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import tempfile
from dataclasses import dataclass

# From <seccomp.h>; libseccomp keeps these values stable across versions.
_ACT_ALLOW = 0x7FFF0000
_ATTR_ACT_BADARCH = 2
_CMP_NE = 1
_CMP_GT = 6
_CMP_MASKED_EQ = 7
_ARCH_X86_64 = 0xC000003E
_ARCH_AARCH64 = 0xC00000B7
_NR_SCMP_ERROR = -1  # seccomp_syscall_resolve_name: "no such name"

_LOW32 = 0xFFFFFFFF

# Calls added since Linux 5.1 have one number on every architecture we support.
# These cover a libseccomp that is older than the kernel and does not know them.
_UNIFIED_NUMBERS = {
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "clone3": 435,
    "pidfd_getfd": 438,
    "mount_setattr": 442,
    "quotactl_fd": 443,
    "open_tree_attr": 467,
}

# Refused outright, whatever the arguments.
_REFUSED = (
    # mounts
    "mount", "umount2", "pivot_root", "chroot", "open_tree", "open_tree_attr",
    "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    # namespaces
    "unshare", "setns",
    # other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    # kernel attack surface
    "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "keyctl", "add_key", "request_key",
    # the kernel itself
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "syslog", "quotactl", "quotactl_fd",
    "lookup_dcookie", "nfsservctl", "uselib", "iopl", "ioperm",
    # file handles
    "open_by_handle_at", "name_to_handle_at",
    # terminals
    "vhangup",
    # clocks
    "settimeofday", "clock_settime", "adjtimex", "clock_adjtime",
)  # fmt: skip

# The namespace flags of clone(2). CLONE_NEWTIME exists for clone3 and unshare only.
_CLONE_NEW_FLAGS = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}

# Families a socket may have (<sys/socket.h>), and netlink's one protocol allowed.
AF_UNIX = 1
AF_INET = 2
AF_INET6 = 10
AF_NETLINK = 16
ALLOWED_FAMILIES = (AF_UNIX, AF_INET, AF_INET6, AF_NETLINK)
NETLINK_ROUTE = 0
# Above every family Linux has (AF_MAX is 46 in 6.18): each family up to here
# is refused by its own rule, anything higher by one "greater than" rule.
FAMILY_CEILING = 63

TIOCSTI = 0x5412
TIOCLINUX = 0x541C


class SeccompError(RuntimeError):
    """libseccomp is missing, too old, or refused to build the filter."""


@dataclass(frozen=True)
class _Cmp:
    """One `struct scmp_arg_cmp`: compare syscall argument `arg` by `op`."""

    arg: int
    op: int
    datum_a: int
    datum_b: int = 0


@dataclass(frozen=True)
class _Rule:
    """Fail `syscall` with `errno` when every comparison holds (always, if none)."""

    syscall: str
    errno: int = errno.EPERM
    cmps: tuple[_Cmp, ...] = ()


def _masked(arg: int, mask: int, value: int) -> _Cmp:
    """`args[arg] & mask == value`."""
    return _Cmp(arg, _CMP_MASKED_EQ, mask, value)


def _rules() -> list[_Rule]:
    rules = [_Rule(name) for name in _REFUSED]
    # clone(flags, ...) on x86_64 and aarch64: flags is the first argument. A
    # rule matches one flag; several rules on one call refuse if any matches.
    rules += [_Rule("clone", cmps=(_masked(0, flag, flag),)) for flag in _CLONE_NEW_FLAGS.values()]
    rules.append(_Rule("clone3", errno=errno.ENOSYS))
    rules += [
        _Rule("ioctl", cmps=(_masked(1, _LOW32, request),)) for request in (TIOCSTI, TIOCLINUX)
    ]
    rules += _personality_rules()
    rules += _socket_rules()
    return rules


def _socket_rules() -> list[_Rule]:
    """Refuse socket(2) and socketpair(2) of any family but `ALLOWED_FAMILIES`.

    Like personality, "not one of these" is spelt as one rule per refused
    value (libseccomp compares an argument once per rule), plus one for
    anything above `FAMILY_CEILING`; netlink is refused for any protocol but
    NETLINK_ROUTE (two arguments in one rule: both must hold).
    """
    rules: list[_Rule] = []
    for call in ("socket", "socketpair"):
        refused = [f for f in range(FAMILY_CEILING + 1) if f not in ALLOWED_FAMILIES]
        rules += [
            _Rule(call, errno.EAFNOSUPPORT, (_masked(0, _LOW32, family),)) for family in refused
        ]
        rules.append(_Rule(call, errno.EAFNOSUPPORT, (_Cmp(0, _CMP_GT, FAMILY_CEILING),)))
        rules.append(
            _Rule(
                call,
                errno.EAFNOSUPPORT,
                (_masked(0, _LOW32, AF_NETLINK), _Cmp(2, _CMP_NE, NETLINK_ROUTE)),
            )
        )
    return rules


def _personality_rules() -> list[_Rule]:
    """Refuse personality(p) unless p is 0 or 0xffffffff.

    libseccomp cannot compare one argument twice in a rule, so "neither 0 nor
    0xffffffff" is spelt with masks: a 32-bit value that is not all zeros or
    all ones has, going round its bits cyclically, a set bit followed by a
    clear one. One rule per adjacent pair of bits catches exactly those values;
    one more refuses anything above 32 bits.
    """
    rules = [_Rule("personality", cmps=(_Cmp(0, _CMP_GT, _LOW32),))]
    for bit in range(32):
        high, low = 1 << bit, 1 << ((bit + 1) % 32)
        rules.append(_Rule("personality", cmps=(_masked(0, high | low, high),)))
    return rules


class _ScmpArgCmp(ctypes.Structure):
    _fields_ = (
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    )


class _ScmpVersion(ctypes.Structure):
    _fields_ = (("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint))


@functools.cache
def _libseccomp() -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL("libseccomp.so.2")
    except OSError as exc:
        raise SeccompError(f"cannot load libseccomp (install libseccomp2): {exc}") from exc
    lib.seccomp_version.restype = ctypes.POINTER(_ScmpVersion)
    lib.seccomp_version.argtypes = ()
    lib.seccomp_arch_native.restype = ctypes.c_uint32
    lib.seccomp_arch_native.argtypes = ()
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_syscall_resolve_name.argtypes = (ctypes.c_char_p,)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = (ctypes.c_uint32,)
    lib.seccomp_release.restype = None
    lib.seccomp_release.argtypes = (ctypes.c_void_p,)
    lib.seccomp_attr_set.restype = ctypes.c_int
    lib.seccomp_attr_set.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32)
    lib.seccomp_rule_add_array.restype = ctypes.c_int
    lib.seccomp_rule_add_array.argtypes = (
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ScmpArgCmp),
    )
    lib.seccomp_export_bpf.restype = ctypes.c_int
    lib.seccomp_export_bpf.argtypes = (ctypes.c_void_p, ctypes.c_int)
    version = lib.seccomp_version().contents
    # 2.4.0 fixed 64-bit argument comparisons (CVE-2019-9893).
    if (version.major, version.minor) < (2, 4):
        raise SeccompError(
            f"libseccomp {version.major}.{version.minor}.{version.micro} is too old; 2.4 or newer"
        )
    return lib


def _native_arch() -> int:
    arch = int(_libseccomp().seccomp_arch_native())
    # Argument positions (clone's flags) and _UNIFIED_NUMBERS are checked for these only.
    if arch not in (_ARCH_X86_64, _ARCH_AARCH64):
        raise SeccompError(f"no seccomp filter for this architecture (audit arch {arch:#x})")
    return arch


def syscall_number(name: str) -> int | None:
    """The number of system call `name` on this machine, or None where it does not exist.

    Raises SeccompError if neither libseccomp nor our table knows the name.
    """
    _native_arch()
    number = int(_libseccomp().seccomp_syscall_resolve_name(name.encode()))
    if number == _NR_SCMP_ERROR:
        if name in _UNIFIED_NUMBERS:
            return _UNIFIED_NUMBERS[name]
        raise SeccompError(f"unknown system call {name!r}")
    # libseccomp names calls of other architectures with negative pseudo-numbers.
    return number if number >= 0 else None


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)  # SCMP_ACT_ERRNO(code)


def _check(result: int, what: str) -> None:
    if result < 0:
        raise SeccompError(f"libseccomp {what}: {os.strerror(-result)}")


@functools.cache
def seccomp_filter() -> bytes:
    """The filter for this machine's architecture, as `bwrap --seccomp FD` reads it.

    Built once per process. Raises SeccompError if libseccomp is missing or
    older than 2.4, the architecture is neither x86_64 nor aarch64, or
    libseccomp refuses a rule.
    """
    lib = _libseccomp()
    _native_arch()
    # The context holds only the native architecture; calls made through any
    # other ABI (i386, x32) take the "bad architecture" action.
    ctx = lib.seccomp_init(_ACT_ALLOW)
    if not ctx:
        raise SeccompError("libseccomp seccomp_init failed")
    try:
        _check(lib.seccomp_attr_set(ctx, _ATTR_ACT_BADARCH, _errno_action(errno.ENOSYS)), "attr")
        for rule in _rules():
            number = syscall_number(rule.syscall)
            if number is None:
                continue  # absent on this architecture: nothing to refuse
            cmps = (_ScmpArgCmp * len(rule.cmps))(
                *(_ScmpArgCmp(c.arg, c.op, c.datum_a, c.datum_b) for c in rule.cmps)
            )
            result = lib.seccomp_rule_add_array(
                ctx, _errno_action(rule.errno), number, len(rule.cmps), cmps
            )
            _check(result, f"rule for {rule.syscall}")
        with tempfile.TemporaryFile() as out:
            _check(lib.seccomp_export_bpf(ctx, out.fileno()), "export")
            out.seek(0)
            program = out.read()
    finally:
        lib.seccomp_release(ctx)
    if not program or len(program) % 8:
        raise SeccompError(f"libseccomp exported {len(program)} bytes, not a BPF program")
    return program


# Docker's names for the comparison operators used by `_rules`.
_DOCKER_OPS = {_CMP_NE: "SCMP_CMP_NE", _CMP_GT: "SCMP_CMP_GT", _CMP_MASKED_EQ: "SCMP_CMP_MASKED_EQ"}
_DOCKER_ARCHES = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64"}


def docker_profile(
    machine: str | None = None, *, agent_user_namespace: bool = False
) -> dict[str, object]:
    """The same rules as `seccomp_filter`, as a Docker seccomp profile (JSON-ready).

    With `agent_user_namespace`, `unshare(CLONE_NEWUSER)` (that exact
    argument, nothing else) is left to the container's first process: the
    agent makes the user namespace that maps its host uid to 1000, then loads
    `seccomp_filter` itself, stacked on this profile, which refuses every
    unshare from then on, before any other process exists (see
    `inside/agent.py`). Everything else is refused exactly as without it.

    Pure: built from the one rule table, so the Docker backend refuses exactly
    what the bubblewrap backend refuses (Docker's default profile is not
    applied on top: a profile given replaces it). The engine compiles it with
    its own libseccomp: a call that library does not know by name is skipped,
    so on an old engine the newest calls (open_tree_attr, Linux 6.15) are
    only refused by the missing capability they need. Only the native
    architecture is listed: calls through another ABI (i386, x32) are
    refused by the engine's bad-architecture action.
    `machine` is `os.uname().machine` by default.
    """
    machine = machine or os.uname().machine
    arch = _DOCKER_ARCHES.get(machine)
    if arch is None:
        raise SeccompError(f"no seccomp profile for this architecture ({machine})")
    syscalls: list[dict[str, object]] = []
    rules = _rules()
    if agent_user_namespace:
        only_newuser = _Cmp(0, _CMP_NE, _CLONE_NEW_FLAGS["CLONE_NEWUSER"])
        rules = [
            _Rule("unshare", cmps=(only_newuser,)) if rule.syscall == "unshare" else rule
            for rule in rules
        ]
    for rule in rules:
        entry: dict[str, object] = {
            "names": [rule.syscall],
            "action": "SCMP_ACT_ERRNO",
            "errnoRet": rule.errno,
        }
        if rule.cmps:
            entry["args"] = [
                {"index": c.arg, "value": c.datum_a, "valueTwo": c.datum_b, "op": _DOCKER_OPS[c.op]}
                for c in rule.cmps
            ]
        syscalls.append(entry)
    return {"defaultAction": "SCMP_ACT_ALLOW", "architectures": [arch], "syscalls": syscalls}
