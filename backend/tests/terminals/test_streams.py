"""Terminals end to end: real server, real sandbox, real bash, over a real WebSocket."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.conftest import User
from tests.servers import SandpitServer
from tests.terminals.client import TerminalClient
from tests.terminals.conftest import Terminals

MiB = 1024 * 1024


def server_rss(server: SandpitServer) -> int:
    assert server.process is not None
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def start_job(shell: TerminalClient, command: str) -> None:
    """Run `command` as the shell's foreground job; return once it runs, so a ^C reaches it.

    The echoed command line only says that bash has read the line. A ^C
    typed while bash still starts the job is caught by bash's own handler
    (in its forked child, which takes the terminal before it sets SIGINT
    back to the default and execs), and the job then runs as if no ^C had
    been typed. So the job prints a word once it runs: `sh`, with SIGINT at
    its default, just before `command` replaces it.
    """
    shell.send(f"sh -c 'echo job-\"\"runs; exec {command}'\r")
    shell.read_until("job-runs\r\n")  # the echoed line has job-""runs: only the job matches


def test_echo_and_environment(terminals: Terminals) -> None:
    shell = terminals.shell()
    assert shell.run("echo hello-$((6*7))") == "hello-42\r\n"
    out = shell.run('id -u; pwd; echo "$TERM $LANG"; env | grep -c -E "^(COLUMNS|LINES)="')
    assert out == "1000\r\n/app\r\nxterm-256color C.UTF-8\r\n0\r\n"
    # Console scripts that pip installs into the workspace are found.
    assert shell.run('echo "$PATH"').startswith("/app/.local/bin:")


def test_resize_is_seen_by_tput(terminals: Terminals) -> None:
    shell = terminals.attach(terminals.create(cols=100, rows=30))
    shell.read_until(r"\$ ")
    assert shell.run("tput cols; tput lines") == "100\r\n30\r\n"
    shell.resize(132, 50)
    assert shell.run("tput cols; tput lines") == "132\r\n50\r\n"


def test_unicode_round_trip(terminals: Terminals) -> None:
    shell = terminals.shell()
    text = "é 漢字 🎉"
    assert shell.run(f"printf '%s' '{text}' | wc -c; echo '{text}'") == (
        f"{len(text.encode())}\r\n{text}\r\n"
    )
    # Bytes of one character split across frames still make the character.
    for byte in f"echo 'x{text}x'\r".encode():
        shell.send(bytes([byte]))
    shell.read_until(f"\rx{text}x\r\n")


def test_ctrl_c_interrupts_sleep(terminals: Terminals) -> None:
    shell = terminals.shell()
    start_job(shell, "sleep 100")
    shell.send("\x03")
    shell.read_until(r"\$ ", timeout=10)
    assert shell.run("echo after-$((1+1))") == "after-2\r\n"


def test_ctrl_c_stops_a_flood_promptly(terminals: Terminals) -> None:
    shell = terminals.shell()
    shell.send("yes\r")
    shell.read_until("(y\r\n){100}")
    while shell.received < 2 * MiB:
        shell.read_until("y\r\n")
    at_interrupt = shell.received
    shell.send("\x03")
    shell.read_until(r"\$ ", timeout=10)
    shell.send("echo stopped-$((6*7))\r")
    shell.read_until("stopped-42", timeout=10)
    # Flow control keeps what was in flight small: no megabytes of backlog.
    assert shell.received - at_interrupt < 2 * MiB


def test_flood_with_acks_completes(terminals: Terminals) -> None:
    shell = terminals.shell()
    out = shell.run("head -c 20000000 /dev/zero | tr '\\0' x", timeout=60)
    assert len(out) == 20_000_000
    assert out.count("x") == 20_000_000


def test_client_that_never_reads_nor_acks_costs_bounded_memory(
    server: SandpitServer, terminals: Terminals
) -> None:
    terminal_id = terminals.create()
    reader = terminals.attach(terminal_id)
    stuck = terminals.attach(terminal_id, auto_ack=False)  # reads nothing, acks nothing
    reader.read_until(r"\$ ")
    before = server_rss(server)
    out = reader.run("head -c 50000000 /dev/zero | tr '\\0' x", timeout=90)
    assert out.count("x") == 50_000_000
    grown = server_rss(server) - before
    assert grown < 25 * MiB, f"the server grew by {grown / MiB:.1f} MiB"
    # The stuck client wakes up: once it has acknowledged what it was sent,
    # it is resynced from the ring, which ends where the others are.
    stuck.auto_ack = True
    stuck.read_control("resync", timeout=30)
    stuck.read_until(r"xM\d+-end\r\n")
    assert reader.run("echo both-$((2+2))") == "both-4\r\n"
    stuck.read_until("both-4")


def test_reconnect_replays_output(terminals: Terminals) -> None:
    terminal_id = terminals.create()
    first = terminals.attach(terminal_id)
    first.read_until(r"\$ ")
    first.run("echo replay-$((40+2))")
    first.close()
    second = terminals.attach(terminal_id)
    second.read_until("\nreplay-42\r\n")
    assert second.output.startswith(b"\x1bc")  # a clean screen first
    assert b"\x1b[?2004h" in second.output  # bash's bracketed paste, as it set it
    assert second.run("echo still-$((1+2))") == "still-3\r\n"


def test_replay_restores_modes_set_before_the_ring(terminals: Terminals) -> None:
    shell = terminals.shell()
    # Application cursor keys and the alternate screen, then more output than the ring holds.
    shell.run("printf '\\033[?1h\\033[?1049h'; head -c 1200000 /dev/zero | tr '\\0' y", timeout=60)
    shell.close()
    again = terminals.attach(
        terminals.user.client.get(f"/api/workspaces/{terminals.workspace}/terminals").json()[0][
            "id"
        ]
    )
    again.read_until("y{1000}")
    assert again.output.startswith(b"\x1bc\x1b[?1049h\x1b[?1h")


def test_two_clients_see_the_same_output(terminals: Terminals) -> None:
    terminal_id = terminals.create()
    a = terminals.attach(terminal_id)
    b = terminals.attach(terminal_id)
    a.read_until(r"\$ ")
    b.read_until(r"\$ ")
    a.send("echo from-a-$((1+1))\r")
    a.read_until("\rfrom-a-2\r\n")
    b.read_until("\rfrom-a-2\r\n")
    b.send("echo from-b-$((2+2))\r")
    b.read_until("\rfrom-b-4\r\n")
    a.read_until("\rfrom-b-4\r\n")


def test_exit_sends_exit_code_and_closes(terminals: Terminals, user: User) -> None:
    terminal_id = terminals.create()
    shell = terminals.attach(terminal_id)
    shell.read_until(r"\$ ")
    shell.send("exit\r")
    assert shell.read_control("exit") == {"type": "exit", "code": 0}
    assert shell.read_close().code == 1000
    listed = user.client.get(f"/api/workspaces/{terminals.workspace}/terminals").json()
    assert [(t["id"], t["exited"], t["exit_code"]) for t in listed] == [(terminal_id, True, 0)]
    # Attaching after the end: the replay, the exit, and the close.
    late = terminals.attach(terminal_id)
    assert late.read_control("exit")["code"] == 0
    assert late.read_close().code == 1000
    assert b"logout" in late.output

    other = terminals.shell()
    other.send("exit 3\r")
    assert other.read_control("exit")["code"] == 3


def test_input_line_cap(terminals: Terminals) -> None:
    shell = terminals.shell()
    shell.send("a" * (64 * 1024 + 1))
    shell.read_until("An input line longer than 64 KiB was refused.")
    assert "64 KiB" in shell.read_control("error")["message"]
    # The cap counts a line across messages (into `cat`: the kernel, not
    # readline, edits the line, which keeps a 40 KB line cheap).
    start_job(shell, "cat > /dev/null")
    shell.send("b" * 40_000)
    shell.send("b" * 30_000)
    shell.read_until("was refused")
    shell.send("\x03")  # ends cat, and the line
    shell.read_until(r"\$ ")  # typed ahead, the next line could be flushed with the ^C
    assert shell.run("echo fine-$((3*3))") == "fine-9\r\n"


def test_large_paste_arrives_whole_and_in_order(terminals: Terminals) -> None:
    shell = terminals.shell()
    lines = [f"{i:06d} " + "p" * 92 for i in range(2000)]
    # Pasted once `cat` runs: what arrives while bash's readline still holds
    # the terminal (its mode keeps CR as CR) would reach `cat` unconverted.
    start_job(shell, "cat > paste.txt")
    shell.send("".join(line + "\r" for line in lines))  # as xterm.js pastes: CR per line
    shell.send("\x04")
    expected = "".join(line + "\n" for line in lines).encode()
    assert len(expected) == 200_000
    digest = hashlib.md5(expected).hexdigest()  # noqa: S324 - a checksum, not security
    out = shell.run("wc -c < paste.txt; md5sum < paste.txt", timeout=60)
    assert out == f"{len(expected)}\r\n{digest}  -\r\n"


def test_python_repl(terminals: Terminals) -> None:
    shell = terminals.shell()
    shell.send("python3\r")
    shell.read_until(">>> ")
    shell.send("print(1+1)\r")
    shell.read_until(r"\r\n2\r\n>>> ")
    shell.send("exit()\r")
    assert shell.run("echo back") == "back\r\n"


def test_files_made_in_the_terminal_are_listed(terminals: Terminals, user: User) -> None:
    shell = terminals.shell()
    shell.run("mkdir -p made && echo hi > made/by-terminal.txt")
    files = user.client.get(f"/api/workspaces/{terminals.workspace}/files").json()
    assert "made/by-terminal.txt" in [f["path"] for f in files]


def test_malformed_control_messages_are_answered_not_fatal(terminals: Terminals) -> None:
    shell = terminals.shell()
    shell.send_text("not json")
    shell.send_json({"type": "dance"})
    shell.resize(0, 10)
    shell.send_json({"type": "ack", "bytes": -1})
    assert shell.run("echo alive") == "alive\r\n"
    errors = [c for c in shell.controls if c["type"] == "error"]
    assert len(errors) == 4
    assert all(isinstance(e["message"], str) and e["message"] for e in errors)
