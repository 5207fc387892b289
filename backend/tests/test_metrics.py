"""The metrics registry, pure: what events become, in the Prometheus text format.

The whole path (a real server, real requests, the guard on /metrics) is in
tests/api/test_user_limits.py.
"""

from __future__ import annotations

from sandpit.metrics import Metrics
from sandpit.proxy.limits import Allowance


def series(metrics: Metrics) -> dict[str, float]:
    found = {}
    for line in metrics.render().decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def test_runs_by_status_and_oom_kills() -> None:
    metrics = Metrics()
    metrics.run_finished("ok", 250)
    metrics.run_finished("oom", 1500)
    metrics.run_finished("oom", 900)
    found = series(metrics)
    assert found['sandpit_runs_total{status="ok"}'] == 1
    assert found['sandpit_runs_total{status="oom"}'] == 2
    assert found["sandpit_oom_kills_total"] == 2
    assert found["sandpit_run_duration_seconds_count"] == 3
    assert found["sandpit_run_duration_seconds_sum"] == 2.65


def test_sandbox_starts_and_gauges() -> None:
    metrics = Metrics()
    metrics.sandbox_started(0.4)
    metrics.set_gauge("sandpit_sandboxes_active", 7)
    found = series(metrics)
    assert found["sandpit_sandbox_starts_total"] == 1
    assert found['sandpit_sandbox_start_duration_seconds_bucket{le="0.5"}'] == 1
    assert found["sandpit_sandboxes_active"] == 7
    assert not any(name.endswith("_created") for name in found)


def test_proxy_bytes_are_the_allowances_count() -> None:
    allowance = Allowance(window_bytes=100, window_s=60)
    allowance.add("w1", 70)
    allowance.add("w2", 50)
    allowance.add("w1", 40)  # over w1's window: refused, still relayed so far
    metrics = Metrics()
    metrics.proxy_bytes = allowance.total
    assert series(metrics)["sandpit_proxy_bytes_total"] == 160
