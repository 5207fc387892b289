"""Compare Python language servers on course code, in the runtime image.

Usage (root, bubblewrap installed):
    pip install --target OPT jedi-language-server python-lsp-server ty pyrefly ruff basedpyright
    python bench/lsp_candidates.py ROOTFS OPT PROJECT

PROJECT must hold `helpers.py` (a `greet(name, times=1)` function), `data.csv`
and a pip user install of `tabulate` in `.local` (`pip install --user`). Each
server runs in bubblewrap on the image's root, read-only, with OPT at
/opt/lsp, PROJECT at /app, no network; the table says which completions it
offers, whether hover, signature help and definition answer, the time to the
first and to a warm completion, and the server's memory (its process tree's
summed RSS) after all of it. This chose the server (docs/architecture/language-server.md).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from lsp_probe import LspProbe, frame, read_frames

CANDIDATES = {
    # Python servers by module: a --target install's scripts name the installer's python.
    "jedi-language-server": ["python3", "-c", "from jedi_language_server.cli import cli; cli()"],
    "pylsp": ["python3", "-m", "pylsp"],
    "ty": ["ty", "server"],
    "pyrefly": ["pyrefly", "lsp"],
    "basedpyright": [
        "python3",
        "-c",
        "from basedpyright.langserver import main; main()",
        "--stdio",
    ],
    "ruff": ["ruff", "server"],
}

SOURCE = """import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import helpers
import tabulate

df = pd.read_csv("data.csv")
a = np.ar
b = df["a"].me
c = plt.pl
d = helpers.gr
e = tabulate.tab
f = pd.read_csv("data.csv")
g = np.linspace(0, 1, )
h = helpers.greet("x")
print(undefined_name)
"""
# (line, character, the label a good answer contains)
COMPLETIONS = {
    "np.": (7, 9, "arange"),
    "DataFrame column": (8, 14, "mean"),
    "plt.": (9, 10, "plot"),
    "own module": (10, 14, "greet"),
    "pip --user package": (11, 16, "tabulate"),
}


def bwrap(rootfs: Path, opt: Path, project: Path, argv: list[str]) -> list[str]:
    return [
        "bwrap", "--ro-bind", str(rootfs), "/", "--tmpfs", "/opt",
        "--ro-bind", str(opt), "/opt/lsp",
        "--ro-bind", str(project), "/app", "--tmpfs", "/tmp", "--proc", "/proc",
        "--dev", "/dev", "--unshare-all", "--die-with-parent", "--uid", "1000",
        "--clearenv", "--setenv", "PATH", "/opt/lsp/bin:/usr/local/bin:/usr/bin:/bin",
        "--setenv", "PYTHONPATH", "/opt/lsp", "--setenv", "HOME", "/app",
        "--setenv", "PYTHONUSERBASE", "/app/.local", "--setenv", "MPLCONFIGDIR", "/tmp/mpl",
        "--setenv", "XDG_CACHE_HOME", "/tmp/cache",
        "--chdir", "/app", *argv,
    ]  # fmt: skip


def tree_rss(pid: int) -> int:
    """Summed RSS (bytes) of pid and every descendant."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


async def probe(name: str, argv: list[str]) -> dict[str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    stdin = proc.stdin

    async def send(body: bytes) -> None:
        stdin.write(frame(body))
        await stdin.drain()

    client = LspProbe(send)
    reader = asyncio.create_task(read_frames(proc.stdout, client.receive))
    row: dict[str, str] = {"server": name}
    uri = "file:///app/main.py"
    try:
        caps = await client.initialize("file:///app")
        began = time.monotonic()
        await client.open(uri, SOURCE)
        supports = caps.get("capabilities", {})
        for what, (line, char, want) in COMPLETIONS.items():
            if "completionProvider" not in supports:
                row[what] = "-"
                continue
            t0 = time.monotonic()
            labels = await client.completion_labels(uri, line, char)
            if what == "np.":
                row["first completion"] = f"{(time.monotonic() - began) * 1000:.0f} ms"
            found = any(lb.startswith(want) for lb in labels)
            row[what] = ("yes" if found else "no") + f" ({len(labels)})"
            if not found:
                print(name, what, labels[:5], file=sys.stderr)
        if "completionProvider" in supports:
            warm = []
            for _ in range(10):
                t0 = time.monotonic()
                await client.completion_labels(uri, 7, 9)
                warm.append(time.monotonic() - t0)
            warm.sort()
            row["warm completion p50"] = f"{warm[len(warm) // 2] * 1000:.0f} ms"
        await _features(client, supports, uri, row)
        row["memory"] = f"{tree_rss(proc.pid) / 2**20:.0f} MiB"
    except Exception as exc:  # a measuring tool: report the failure in the table
        row["error"] = repr(exc)[:80]
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        reader.cancel()
    return row


async def _features(
    client: LspProbe, supports: dict[str, object], uri: str, row: dict[str, str]
) -> None:
    """Hover, signature help, definition and diagnostics, into `row`."""
    hover = (
        await client.at("textDocument/hover", uri, 12, 10) if "hoverProvider" in supports else None
    )
    text = str((hover or {}).get("contents", ""))
    row["hover read_csv"] = (
        "yes" if "sep" in text or "delimiter" in text else ("short" if text else "no")
    )
    sig = (
        await client.at("textDocument/signatureHelp", uri, 13, 22)
        if "signatureHelpProvider" in supports
        else None
    )
    row["signature linspace"] = "yes" if sig and sig.get("signatures") else "no"
    target = (
        await client.at("textDocument/definition", uri, 14, 14)
        if "definitionProvider" in supports
        else None
    )
    row["definition other file"] = "yes" if "helpers.py" in str(target) else "no"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any(
        "undefined_name" in d.get("message", "") for d in client.diagnostics.get(uri, [])
    ):
        client.diagnostics_changed.clear()
        try:
            await asyncio.wait_for(client.diagnostics_changed.wait(), deadline - time.monotonic())
        except TimeoutError:
            break
    row["undefined name"] = (
        "yes"
        if any("undefined_name" in d.get("message", "") for d in client.diagnostics.get(uri, []))
        else "no"
    )


async def amain(rootfs: Path, opt: Path, project: Path, only: list[str]) -> None:
    rows = []
    for name, argv in CANDIDATES.items():
        if only and name not in only:
            continue
        rows.append(await probe(name, bwrap(rootfs, opt, project, argv)))
        print(rows[-1], file=sys.stderr, flush=True)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(row.get(c, "") for c in columns) + " |")


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("run as root (bubblewrap with --uid)", file=sys.stderr)
    asyncio.run(amain(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:]))
