"""The seccomp filter: the exact bytes bwrap loads, then real programs under it.

Two levels. The filter program is run through a small classic-BPF interpreter
here, so every rule is checked against the bytes the kernel gets, for any
argument value and for foreign ABIs. Then probes run inside bubblewrap in the
runtime image: each refused call comes back EPERM (clone3: ENOSYS), both as
the sandbox's unprivileged uid 1000 and as root of the sandbox's user
namespace with every capability, where only the filter stands in the way.
Control runs without the filter show that the key calls would otherwise
succeed, and ordinary work (threads, fork, subprocesses, numpy) still does.

The image is the one of the current definition, which `make test` builds
(the `image_rootfs` fixture of tests/sandbox/conftest.py); without it, or
without bubblewrap or root, the sandbox tests fail.
"""

from __future__ import annotations

import errno
import json
import platform
import struct
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandpit.sandbox.seccomp import (
    TIOCLINUX,
    TIOCSTI,
    SeccompError,
    seccomp_filter,
    syscall_number,
)

# Written out here, not imported, so that dropping a rule from the module fails a test.
REFUSED = (
    "mount", "umount2", "pivot_root", "chroot", "open_tree", "open_tree_attr",
    "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "unshare", "setns",
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "keyctl", "add_key", "request_key",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "syslog", "quotactl", "quotactl_fd",
    "lookup_dcookie", "nfsservctl", "uselib", "iopl", "ioperm",
    "open_by_handle_at", "name_to_handle_at",
    "vhangup",
    "settimeofday", "clock_settime", "adjtimex", "clock_adjtime",
)  # fmt: skip
CLONE_NEW = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
SIGCHLD = 17
# What glibc's pthread_create passes to clone when clone3 is refused.
THREAD_FLAGS = 0x003D0F00
TIOCGWINSZ = 0x5413
ADDR_NO_RANDOMIZE = 0x0040000
READ_IMPLIES_EXEC = 0x0400000
PER_LINUX32 = 0x0008

ALLOW = 0x7FFF0000
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
FOREIGN_ARCHES = {"x86_64": {"i386": 0x40000003}, "aarch64": {"arm": 0x40000028}}
X32_SYSCALL_BIT = 0x40000000


def ret_errno(code: int) -> int:
    """The filter's return value for "fail with errno `code`" (SECCOMP_RET_ERRNO)."""
    return 0x00050000 | code


def nr(name: str) -> int:
    number = syscall_number(name)
    if number is None:
        pytest.skip(f"{name} does not exist on {platform.machine()}")
    return number


def evaluate(program: bytes, number: int, args: Sequence[int] = (), arch: int | None = None) -> int:
    """Run a seccomp BPF program on one call, as the kernel would; return its verdict."""
    arch = AUDIT_ARCH[platform.machine()] if arch is None else arch
    padded = [*args, *[0] * (6 - len(args))]
    data = struct.pack("<iIQ6Q", number, arch, 0, *padded)
    acc, index, memory, pc = 0, 0, [0] * 16, 0
    while True:
        code, jt, jf, k = struct.unpack_from("<HBBI", program, pc * 8)
        pc += 1
        if code == 0x20:  # ld [k]
            acc = struct.unpack_from("<I", data, k)[0]
        elif code == 0x00:  # ld #k
            acc = k
        elif code == 0x60:  # ld M[k]
            acc = memory[k]
        elif code == 0x02:  # st M[k]
            memory[k] = acc
        elif code == 0x07:  # tax
            index = acc
        elif code == 0x87:  # txa
            acc = index
        elif code == 0x54:  # and #k
            acc &= k
        elif code == 0x05:  # ja
            pc += k
        elif code in (0x15, 0x25, 0x35, 0x45):  # jeq, jgt, jge, jset #k
            taken = {0x15: acc == k, 0x25: acc > k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += jt if taken else jf
        elif code == 0x06:  # ret #k
            return int(k)
        else:
            raise AssertionError(f"BPF opcode {code:#x} is new to this interpreter")


# --- The program itself ---------------------------------------------------------------


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86_64 numbers")
def test_syscall_numbers_come_from_libseccomp_or_the_unified_table() -> None:
    assert syscall_number("mount") == 165
    assert syscall_number("open_tree_attr") == 467  # Linux 6.15, newer than libseccomp 2.5
    assert syscall_number("vm86") is None  # an i386 call
    with pytest.raises(SeccompError, match="unknown system call 'no_such_call'"):
        syscall_number("no_such_call")


def test_the_filter_is_built_once() -> None:
    program = seccomp_filter()
    assert program is seccomp_filter()
    assert program
    assert len(program) % 8 == 0


@pytest.mark.parametrize("name", REFUSED)
def test_a_refused_call_fails_with_eperm(name: str) -> None:
    assert evaluate(seccomp_filter(), nr(name)) == ret_errno(errno.EPERM)


def test_clone3_fails_with_enosys_so_glibc_falls_back_to_clone() -> None:
    assert evaluate(seccomp_filter(), nr("clone3")) == ret_errno(errno.ENOSYS)


@pytest.mark.parametrize("flag", CLONE_NEW.values(), ids=CLONE_NEW.keys())
def test_clone_into_a_new_namespace_is_refused(flag: int) -> None:
    program = seccomp_filter()
    for flags in (flag | SIGCHLD, flag | THREAD_FLAGS, flag | 0xFFFF_FFFF_0000_0000):
        assert evaluate(program, nr("clone"), [flags]) == ret_errno(errno.EPERM), hex(flags)


def test_fork_and_threads_may_clone() -> None:
    program = seccomp_filter()
    for flags in (SIGCHLD, THREAD_FLAGS, 0x01000000 | 0x00200000 | SIGCHLD):
        assert evaluate(program, nr("clone"), [flags]) == ALLOW, hex(flags)


def test_terminal_input_injection_is_refused_whatever_the_upper_bits() -> None:
    program = seccomp_filter()
    for request in (TIOCSTI, TIOCLINUX):
        for upper in (0, 1 << 32, 0xFFFF_FFFF << 32):
            verdict = evaluate(program, nr("ioctl"), [0, upper | request])
            assert verdict == ret_errno(errno.EPERM), hex(upper | request)


def test_other_ioctls_are_allowed() -> None:
    for request in (TIOCGWINSZ, 0x5401, 0x541B, 0x5414):  # TCGETS, FIONREAD, TIOCSWINSZ
        assert evaluate(seccomp_filter(), nr("ioctl"), [1, request]) == ALLOW


@given(st.one_of(st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1)))
def test_personality_may_only_be_queried_or_reset(persona: int) -> None:
    expected = ALLOW if persona in (0, 0xFFFFFFFF) else ret_errno(errno.EPERM)
    assert evaluate(seccomp_filter(), nr("personality"), [persona]) == expected


def test_personality_edge_values() -> None:
    program = seccomp_filter()
    for persona in (0, 0xFFFFFFFF):
        assert evaluate(program, nr("personality"), [persona]) == ALLOW
    single_bits = [1 << bit for bit in range(64)]
    for persona in [*single_bits, 0xFFFFFFFE, 0x7FFFFFFF, 0x1_0000_0000, 0x1_FFFF_FFFF]:
        assert evaluate(program, nr("personality"), [persona]) == ret_errno(errno.EPERM)


# Socket families, written out: AF_UNIX, AF_INET, AF_INET6, AF_NETLINK (route only).
ALLOWED_FAMILIES = (1, 2, 10, 16)
AF_NETLINK, AF_PACKET, AF_VSOCK, AF_ALG = 16, 17, 40, 38
NETLINK_ROUTE, NETLINK_AUDIT, NETLINK_KOBJECT_UEVENT = 0, 9, 15
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW = 1, 2, 3


@pytest.mark.parametrize("call", ["socket", "socketpair"])
def test_only_the_families_python_uses_may_make_sockets(call: str) -> None:
    program = seccomp_filter()
    for family in range(0, 128):
        expected = ALLOW if family in ALLOWED_FAMILIES else ret_errno(errno.EAFNOSUPPORT)
        assert evaluate(program, nr(call), [family, SOCK_STREAM, 0]) == expected, family
    for family in (AF_VSOCK, AF_PACKET, AF_ALG):
        for upper in (1 << 32, 0xFFFF_FFFF << 32):
            verdict = evaluate(program, nr(call), [upper | family, SOCK_DGRAM, 0])
            assert verdict == ret_errno(errno.EAFNOSUPPORT), hex(upper | family)
    for family in (0xFFFF_FFFF, 2**63, 2**64 - 1):
        assert evaluate(program, nr(call), [family, SOCK_DGRAM, 0]) == ret_errno(errno.EAFNOSUPPORT)


def test_netlink_sockets_may_speak_route_only() -> None:
    program = seccomp_filter()
    assert evaluate(program, nr("socket"), [AF_NETLINK, SOCK_RAW, NETLINK_ROUTE]) == ALLOW
    for protocol in (NETLINK_AUDIT, NETLINK_KOBJECT_UEVENT, 1, 0xFFFF_FFFF, 1 << 32):
        verdict = evaluate(program, nr("socket"), [AF_NETLINK, SOCK_RAW, protocol])
        assert verdict == ret_errno(errno.EAFNOSUPPORT), hex(protocol)
    # The protocol of other families is theirs (IPPROTO_TCP is 6).
    assert evaluate(program, nr("socket"), [2, SOCK_STREAM, 6]) == ALLOW


# socket: with family 0 (AF_UNSPEC) it is refused; the families test covers it.
@pytest.mark.parametrize(
    "name", ["read", "write", "openat", "mmap", "execve", "kill", "wait4", "futex"]
)
def test_ordinary_calls_are_allowed(name: str) -> None:
    assert evaluate(seccomp_filter(), nr(name), [0, 0, 0]) == ALLOW


def test_foreign_abis_fail_with_enosys() -> None:
    program = seccomp_filter()
    for arch in FOREIGN_ARCHES[platform.machine()].values():
        for number in (0, 20, 39, 165, 310, 400):
            assert evaluate(program, number, arch=arch) == ret_errno(errno.ENOSYS)


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x32 is an x86_64 ABI")
def test_x32_calls_fail_with_enosys() -> None:
    # x32 calls arrive under the x86_64 audit arch, numbered from X32_SYSCALL_BIT.
    program = seccomp_filter()
    for number in (nr("getpid"), nr("mount"), nr("unshare")):
        assert evaluate(program, X32_SYSCALL_BIT | number) == ret_errno(errno.ENOSYS)


# --- Real programs in bubblewrap ------------------------------------------------------


@pytest.fixture(scope="module")
def rootfs(image_rootfs: Path) -> Path:
    """The current definition's image; the fixture fails (never skips) without it."""
    return image_rootfs


def run_sandboxed(
    rootfs: Path,
    code: str,
    *args: str,
    seccomp: bytes | None,
    capable: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `python3 -c code args...` in bubblewrap with the image as `/`.

    `capable`: as root of the sandbox's user namespace with every capability
    there, instead of uid 1000 with none, so that only the filter refuses.
    """
    argv = [
        "bwrap", "--ro-bind", str(rootfs), "/", "--proc", "/proc", "--dev", "/dev",
        "--tmpfs", "/tmp", "--tmpfs", "/dev/shm",
        "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
    ]  # fmt: skip
    if capable:
        argv += ["--uid", "0", "--gid", "0", "--cap-add", "ALL"]
    else:
        argv += ["--uid", "1000", "--gid", "1000"]
    with tempfile.TemporaryFile() as bpf:
        if seccomp is not None:
            bpf.write(seccomp)
            bpf.seek(0)
            argv += ["--seccomp", str(bpf.fileno())]
        argv += ["/usr/bin/python3", "-c", code, *args]
        return subprocess.run(
            argv,
            pass_fds=(bpf.fileno(),),
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


# Calls each probe with raw syscall(2) and prints {label: errno, 0 for success}.
# "@tty" is a pseudo-terminal made the controlling terminal, "@buf" a scratch
# buffer, other strings are C strings. A clone that goes through leaves a child
# that exits at once.
PROBE = r"""
import ctypes, fcntl, json, os, sys, termios
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
master, tty = os.openpty()
try:
    os.setsid()
except OSError:
    pass  # bwrap --new-session made us a session leader already
fcntl.ioctl(tty, termios.TIOCSCTTY, 0)
buffer = ctypes.create_string_buffer(256)

def arg(value):
    if value == "@tty":
        return ctypes.c_long(tty)
    if value == "@buf":
        return buffer
    if isinstance(value, str):
        return ctypes.c_char_p(value.encode())
    return ctypes.c_long(value)

results = {}
for label, number, args in json.loads(sys.argv[1]):
    ctypes.set_errno(0)
    ret = libc.syscall(ctypes.c_long(number), *[arg(a) for a in args])
    if label.startswith("clone") and ret == 0:
        os._exit(0)
    if label.startswith("clone") and ret > 0:
        os.waitpid(ret, 0)
    results[label] = ctypes.get_errno() if ret == -1 else 0
print(json.dumps(results))
"""

Probe = tuple[str, str, Sequence[int | str]]


def refused_probes() -> list[tuple[Probe, int]]:
    """Every refused call with harmless arguments, and the errno it must get."""
    eperm = errno.EPERM
    # ptrace's zero request is PTRACE_TRACEME, which would make the probe stop
    # on signals should the filter fail; PTRACE_PEEKDATA on pid 0 cannot work.
    plain = [((name, name, [2] if name == "ptrace" else []), eperm) for name in REFUSED]
    clones = [
        ((f"clone {n}", "clone", [f | SIGCHLD, 0, 0, 0, 0]), eperm) for n, f in CLONE_NEW.items()
    ]
    return [
        *plain,
        *clones,
        (("unshare CLONE_NEWUSER", "unshare", [CLONE_NEW["CLONE_NEWUSER"]]), eperm),
        (("clone3", "clone3", [0, 0]), errno.ENOSYS),
        (("ioctl TIOCSTI", "ioctl", ["@tty", TIOCSTI, "x"]), eperm),
        (("ioctl TIOCSTI, upper bits set", "ioctl", ["@tty", 1 << 32 | TIOCSTI, "x"]), eperm),
        (("ioctl TIOCLINUX", "ioctl", ["@tty", TIOCLINUX, "@buf"]), eperm),
        (("personality ADDR_NO_RANDOMIZE", "personality", [ADDR_NO_RANDOMIZE]), eperm),
        (("personality READ_IMPLIES_EXEC", "personality", [READ_IMPLIES_EXEC]), eperm),
        (("personality PER_LINUX32", "personality", [PER_LINUX32]), eperm),
        (("personality, upper bits set", "personality", [1 << 32]), eperm),
    ]


ALLOWED_PROBES: list[Probe] = [
    ("personality query", "personality", [0xFFFFFFFF]),
    ("personality PER_LINUX", "personality", [0]),
    ("ioctl TIOCGWINSZ", "ioctl", ["@tty", TIOCGWINSZ, "@buf"]),
    ("clone as fork does", "clone", [SIGCHLD, 0, 0, 0, 0]),
    ("getpid", "getpid", []),
]


def probe(
    rootfs: Path, probes: Sequence[Probe], seccomp: bytes | None, capable: bool
) -> dict[str, int]:
    """Run the probes in one sandbox; return each label's errno (0: it succeeded)."""
    numbered = [
        (label, number, args)
        for label, name, args in probes
        if (number := syscall_number(name)) is not None
    ]
    result = run_sandboxed(rootfs, PROBE, json.dumps(numbered), seccomp=seccomp, capable=capable)
    assert result.returncode == 0, result.stderr
    outcome: dict[str, int] = json.loads(result.stdout)
    return outcome


@pytest.fixture(scope="module", params=["uid 1000", "root with all capabilities"])
def filtered(request: pytest.FixtureRequest, rootfs: Path) -> dict[str, int]:
    """The errno of every probe under the filter, as the sandbox's user or as its root."""
    capable = request.param != "uid 1000"
    probes = [p for p, _ in refused_probes()] + ALLOWED_PROBES
    return probe(rootfs, probes, seccomp_filter(), capable=capable)


@pytest.mark.parametrize(
    ("probe_", "expected"), [pytest.param(p, e, id=p[0]) for p, e in refused_probes()]
)
def test_in_the_sandbox_the_call_is_refused(
    filtered: dict[str, int], probe_: Probe, expected: int
) -> None:
    label, name, _ = probe_
    if syscall_number(name) is None:
        pytest.skip(f"{name} does not exist on {platform.machine()}")
    assert filtered[label] == expected, errno.errorcode.get(filtered[label], filtered[label])


def test_in_the_sandbox_harmless_neighbours_are_allowed(filtered: dict[str, int]) -> None:
    labels = [label for label, _, _ in ALLOWED_PROBES]
    assert {label: filtered[label] for label in labels} == dict.fromkeys(labels, 0)


def test_without_the_filter_the_sandbox_user_could_nest_namespaces_and_inject_input(
    rootfs: Path,
) -> None:
    # The control: the same sandbox, unfiltered, lets uid 1000 do these; so the
    # filter, not bubblewrap or a missing capability, is what refuses them.
    probes: list[Probe] = [
        ("personality ADDR_NO_RANDOMIZE", "personality", [ADDR_NO_RANDOMIZE]),
        ("keyctl", "keyctl", [0, -3, 1]),  # KEYCTL_GET_KEYRING_ID, session keyring, create
        ("clone CLONE_NEWUSER", "clone", [CLONE_NEW["CLONE_NEWUSER"] | SIGCHLD, 0, 0, 0, 0]),
        ("clone3", "clone3", [0, 0]),
        ("unshare CLONE_NEWUSER", "unshare", [CLONE_NEW["CLONE_NEWUSER"]]),  # last: it moves us
    ]
    legacy_tiocsti = Path("/proc/sys/dev/tty/legacy_tiocsti")
    if not legacy_tiocsti.exists() or legacy_tiocsti.read_text().strip() == "1":
        # Linux 6.2 can turn TIOCSTI off for everyone; where it is on, only the filter refuses.
        probes.insert(0, ("ioctl TIOCSTI", "ioctl", ["@tty", TIOCSTI, "x"]))
    outcome = probe(rootfs, probes, seccomp=None, capable=False)
    assert outcome.pop("clone3") == errno.EINVAL  # a real clone3 that read our empty arguments
    assert outcome == dict.fromkeys(outcome, 0)


# Calls the kernel refuses the sandbox's root by itself: each checks its
# capability in the initial user namespace (CAP_SYS_ADMIN, CAP_SYS_PACCT,
# CAP_SYSLOG, CAP_SYS_TTY_CONFIG), which no sandbox ever holds, so they answer
# EPERM with or without the filter and the in-sandbox check above cannot see a
# dropped rule for them. Their rules are checked on the filter's own bytes by
# test_a_refused_call_fails_with_eperm.
KERNEL_REFUSES_TOO = {"swapoff", "acct", "syslog", "vhangup"}


def test_without_the_filter_the_sandbox_root_gets_another_answer_to_every_probe(
    rootfs: Path,
) -> None:
    # The control for every in-sandbox refusal as root: unfiltered, each probe
    # gets something else than what the filter answers (it works, or fails for
    # another reason), except the calls listed, which the kernel refuses too.
    expected = {label: errno_ for (label, _, _), errno_ in refused_probes()}
    # Last, "unshare CLONE_NEWUSER": it moves the probe into a new user namespace.
    probes = sorted((p for p, _ in refused_probes()), key=lambda p: p[0] == "unshare CLONE_NEWUSER")
    outcome = probe(rootfs, probes, seccomp=None, capable=True)
    same = {label for label, answer in outcome.items() if answer == expected[label]}
    assert same == KERNEL_REFUSES_TOO, {label: errno.errorcode[outcome[label]] for label in same}


def test_without_the_filter_the_sandbox_root_could_mount(rootfs: Path) -> None:
    probes: list[Probe] = [
        ("mount", "mount", ["none", "/tmp", "tmpfs", 0, 0]),
        ("umount2", "umount2", ["/tmp", 0]),
        ("chroot", "chroot", ["/"]),
        ("unshare", "unshare", [0]),
        *[(f"clone {n}", "clone", [flag | SIGCHLD, 0, 0, 0, 0]) for n, flag in CLONE_NEW.items()],
    ]
    outcome = probe(rootfs, probes, seccomp=None, capable=True)
    assert outcome == dict.fromkeys(outcome, 0)


WORKLOADS = {
    "threads": """
import threading
thread = threading.Thread(target=print, args=("ok",))
thread.start()
thread.join()
""",
    "fork": """
import os
pid = os.fork()
if pid == 0:
    os._exit(7)
assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 7
print("ok")
""",
    "subprocess": """
import subprocess
print(subprocess.run(["/bin/echo", "ok"], capture_output=True, text=True).stdout)
""",
    "multiprocessing": """
import multiprocessing
if __name__ == "__main__":
    with multiprocessing.Pool(2) as pool:
        assert pool.map(abs, [-1, -2]) == [1, 2]
    print("ok")
""",
    "numpy": """
import numpy
assert numpy.arange(4).sum() == 6
print("ok")
""",
    "a pseudo-terminal": """
import os
master, tty = os.openpty()
os.write(master, b"ok\\n")
print(os.read(tty, 3).decode())
""",
}


@pytest.mark.parametrize("code", WORKLOADS.values(), ids=WORKLOADS.keys())
def test_ordinary_work_still_runs_under_the_filter(rootfs: Path, code: str) -> None:
    result = run_sandboxed(rootfs, code, seccomp=seccomp_filter())
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr


# Machine code called through ctypes: `mov eax, 20 (i386 getpid); int 0x80;
# movsxd rax, eax; ret`, and the x32 getpid through `syscall`.
FOREIGN_ABI_PROBE = r"""
import ctypes, mmap, os
codes = {
    "i386": bytes.fromhex("b814000000" "cd80" "4863c0" "c3"),
    "x32": bytes.fromhex("48c7c027000040" "0f05" "c3"),
}
for name, code in codes.items():
    page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(code)
    function = ctypes.CFUNCTYPE(ctypes.c_long)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
    print(name, function(), os.getpid())
"""


@pytest.mark.skipif(platform.machine() != "x86_64", reason="i386 and x32 are x86_64 ABIs")
def test_the_i386_and_x32_abis_cannot_bypass_the_filter(rootfs: Path) -> None:
    control = run_sandboxed(rootfs, FOREIGN_ABI_PROBE, seccomp=None)
    if control.returncode != 0:
        pytest.skip(f"this kernel runs no i386 calls at all: {control.returncode}")
    unfiltered = {
        name: (int(ret), int(pid)) for name, ret, pid in map(str.split, control.stdout.splitlines())
    }
    # Without the filter the i386 getpid reaches the kernel: a way round every rule.
    assert unfiltered["i386"][0] == unfiltered["i386"][1]
    result = run_sandboxed(rootfs, FOREIGN_ABI_PROBE, seccomp=seccomp_filter())
    assert result.returncode == 0, result.stderr
    filtered = {name: int(ret) for name, ret, _ in map(str.split, result.stdout.splitlines())}
    assert filtered == {"i386": -errno.ENOSYS, "x32": -errno.ENOSYS}
    # x32 has no control here: a kernel without the x32 ABI (CONFIG_X86_X32_ABI
    # off, or off at boot, as on most) answers ENOSYS by itself, so the x32 half
    # above only bites on a kernel that runs x32. The filter's x32 rule is
    # checked on its own bytes, for every kernel, by test_x32_calls_fail_with_enosys.
