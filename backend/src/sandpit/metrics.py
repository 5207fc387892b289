"""The server's Prometheus metrics, in one registry per app (`GET /metrics` renders it).

Counters and histograms are fed by events (a request served, a sandbox
started, a run recorded, a start refused); gauges are sampled from the live
objects just before each scrape (`set_gauge`, see `sandpit.api.metrics`), so
they cannot drift from the truth.

Labels are bounded by construction: a route is the route's *template*
(`/api/workspaces/{workspace_id}/files/{path}`), never the raw path; a
status, a run status and a refusal reason come from small fixed sets; no
label ever holds a user, a workspace or an id. A request no route matched
is counted under the route "unmatched".
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

# No `*_created` series: they double the output and no dashboard of ours reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Request latencies of an interactive API: most answers are milliseconds;
# a `?wait=true` run can take its whole timeout.
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_START_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
_RUN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

GAUGES = {
    "sandpit_sandboxes_active": "Sandboxes running now.",
    "sandpit_sandboxes_memory_bytes": "Memory all sandboxes hold now (anonymous plus tmpfs).",
    "sandpit_sandboxes_memory_budget_bytes": "The memory budget for all sandboxes together.",
    "sandpit_terminal_sessions": "Terminals open now.",
    "sandpit_terminal_clients": "Windows attached to terminals now.",
    "sandpit_runs_active": "Runs running now.",
    "sandpit_proxy_tunnels": "Package proxy tunnels open now.",
    "sandpit_storage_used_bytes": "Bytes stored in workspaces (as the last usage scan found).",
}


class Metrics:
    """Every metric of one server. See the module docstring for the rules on labels."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "sandpit_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "sandpit_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=_REQUEST_BUCKETS,
            registry=r,
        )
        self.sandbox_starts = Counter("sandpit_sandbox_starts", "Sandboxes started.", registry=r)
        self.sandbox_start_seconds = Histogram(
            "sandpit_sandbox_start_duration_seconds",
            "Time to start a sandbox.",
            buckets=_START_BUCKETS,
            registry=r,
        )
        self.runs = Counter("sandpit_runs", "Runs finished, by status.", ["status"], registry=r)
        self.run_seconds = Histogram(
            "sandpit_run_duration_seconds",
            "Duration of finished runs.",
            buckets=_RUN_BUCKETS,
            registry=r,
        )
        self.oom_kills = Counter(
            "sandpit_oom_kills", "Runs ended by their sandbox's memory limit.", registry=r
        )
        self.admission_refusals = Counter(
            "sandpit_admission_refusals",
            "Sandbox starts refused, by reason (a per-user cap, the host's memory budget, "
            "the start rate).",
            ["reason"],
            registry=r,
        )
        self.rate_limited = Counter(
            "sandpit_refusals",
            "Requests refused with 429 or 503 and Retry-After (a WebSocket closed with 4429 or "
            "4503 counts as its HTTP status), by route template and status.",
            ["route", "status"],
            registry=r,
        )
        # The proxy counts its own bytes (Allowance.total); this reports the
        # count it had at the last sample, as a counter.
        self.proxy_bytes = 0
        r.register(_ProxyBytes(self))
        self._gauges = {
            name: Gauge(name, help_text, registry=r) for name, help_text in GAUGES.items()
        }

    def set_gauge(self, name: str, value: float) -> None:
        """Set gauge `name` (one of `GAUGES`)."""
        self._gauges[name].set(value)

    def run_finished(self, status: str, duration_ms: int) -> None:
        self.runs.labels(status=status).inc()
        self.run_seconds.observe(duration_ms / 1000)
        if status == "oom":
            self.oom_kills.inc()

    def sandbox_started(self, seconds: float) -> None:
        self.sandbox_starts.inc()
        self.sandbox_start_seconds.observe(seconds)

    def render(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


class _ProxyBytes(Collector):
    """`sandpit_proxy_bytes_total`: bytes the package proxy relayed, both ways."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        yield CounterMetricFamily(
            "sandpit_proxy_bytes",
            "Bytes relayed by the package proxy, both ways.",
            value=self._metrics.proxy_bytes,
        )
