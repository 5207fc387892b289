"""Helpers shared by the benchmarks: timing, percentiles and a table printer."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def measure(action: Callable[[], object], repeat: int, warmup: int = 5) -> list[float]:
    """Milliseconds taken by each of `repeat` calls of `action`, after `warmup` calls."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def row(name: str, samples: list[float]) -> tuple[str, str, str, str, str]:
    return (
        name,
        str(len(samples)),
        f"{percentile(samples, 50):.2f}",
        f"{percentile(samples, 95):.2f}",
        f"{statistics.fmean(samples):.2f}",
    )


def print_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
