"""Real reverse proxies for the tests: nginx and Caddy with the shipped configurations.

Each runs the file from deploy/ as it is, with only what a deployment
changes replaced: the addresses it listens on, the certificate (a
self-signed one made here with openssl) and the upstream's port.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from sandpit.config import REPO_DIR
from tests.servers import free_port, public_tmp, wait_for

NGINX_CONF = REPO_DIR / "deploy" / "nginx" / "sandpit.conf"
CADDYFILE = REPO_DIR / "deploy" / "caddy" / "Caddyfile"
SHIPPED_UPSTREAM = "127.0.0.1:3001"


@dataclass
class Certificate:
    cert: Path
    key: Path

    def context(self) -> ssl.SSLContext:
        """A client context that trusts exactly this certificate."""
        return ssl.create_default_context(cafile=str(self.cert))


def self_signed(directory: Path) -> Certificate:
    """A certificate for 127.0.0.1 and localhost, made with openssl."""
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)


@dataclass
class Proxy:
    """A running proxy: `url` is its https:// address, `tls` the client context."""

    kind: str
    url: str
    tls: ssl.SSLContext
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, **options: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=self.tls, timeout=60, **options)  # type: ignore[arg-type]


def render_nginx(upstream_port: int, https_port: int, http_port: int, tls: Certificate) -> str:
    """The shipped nginx configuration with this test's ports and certificate."""
    text = NGINX_CONF.read_text()
    for old, new in (
        (SHIPPED_UPSTREAM, f"127.0.0.1:{upstream_port}"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("/etc/ssl/sandpit/fullchain.pem", str(tls.cert)),
        ("/etc/ssl/sandpit/privkey.pem", str(tls.key)),
    ):
        assert old in text, f"{old!r} is no longer in {NGINX_CONF}"
        text = text.replace(old, new)
    return text


def render_caddy(upstream_port: int, https_port: int, tls: Certificate) -> str:
    """The shipped Caddyfile with this test's port and certificate (no ACME, no admin API)."""
    text = CADDYFILE.read_text()
    for old, new in (
        (SHIPPED_UPSTREAM, f"127.0.0.1:{upstream_port}"),
        ("sandpit.example.org {", f"https://127.0.0.1:{https_port} {{\n\ttls {tls.cert} {tls.key}"),
    ):
        assert old in text, f"{old!r} is no longer in {CADDYFILE}"
        text = text.replace(old, new)
    return "{\n\tadmin off\n\tauto_https disable_redirects\n}\n\n" + text


@contextlib.contextmanager
def running_proxy(kind: str, upstream_port: int) -> Iterator[Proxy]:
    """Start nginx or Caddy in front of `upstream_port`; stop it and remove its files after."""
    directory = public_tmp(f"sandpit-{kind}-")
    tls = self_signed(directory)
    https_port = free_port()
    log = directory / "proxy.log"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(directory)}
    if kind == "nginx":
        site = directory / "sandpit.conf"
        site.write_text(render_nginx(upstream_port, https_port, free_port(), tls))
        main = directory / "nginx.conf"
        main.write_text(
            "daemon off;\nuser root;\nworker_processes 1;\n"
            f"pid {directory}/nginx.pid;\nerror_log {log} warn;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n  access_log off;\n  client_body_temp_path {directory}/body;\n"
            f"  proxy_temp_path {directory}/proxy;\n  include {site};\n}}\n"
        )
        argv = ["nginx", "-p", str(directory), "-c", str(main), "-e", str(log)]
    else:
        caddyfile = directory / "Caddyfile"
        caddyfile.write_text(render_caddy(upstream_port, https_port, tls))
        env |= {"XDG_DATA_HOME": str(directory), "XDG_CONFIG_HOME": str(directory)}
        argv = ["caddy", "run", "--adapter", "caddyfile", "--config", str(caddyfile)]
    with open(log, "ab") as output:
        process = subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT)
    proxy = Proxy(kind, f"https://127.0.0.1:{https_port}", tls.context(), process, log)
    try:
        wait_for(lambda: _answers(proxy), 30, f"{kind} on port {https_port}")
        yield proxy
    finally:
        process.send_signal(signal.SIGTERM if kind == "caddy" else signal.SIGQUIT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)


def _answers(proxy: Proxy) -> bool:
    if proxy.process.poll() is not None:
        raise RuntimeError(f"{proxy.kind} exited early:\n{proxy.log.read_text()}")
    try:
        with proxy.client() as client:
            return client.get("/api/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
