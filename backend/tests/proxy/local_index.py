"""A package index on this host, over TLS with a CA of the test's own.

pip in a sandbox installs from it through the real package proxy, so those
tests need no live index. It listens on 127.0.0.2 (all of 127/8 is loopback
on Linux): not 127.0.0.1, which the sandbox's NO_PROXY sends straight to the
sandbox's own loopback. The server under test allows it with
PACKAGE_PROXY_ALLOWED_HOSTS and PACKAGE_PROXY_LOCAL_HOSTS, and trusts its CA
through PACKAGE_PROXY_CA_BUNDLE (the host's bundle plus the test CA).

It serves one package, `sandpit-probe` 1.0, as a wheel and as a source
distribution whose build backend is in the tree (`probe_backend.py`), so a
source build needs nothing else from any index. `requests` records every
path asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import http.server
import io
import shutil
import ssl
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import public_tmp

HOST = "127.0.0.2"
NAME = "sandpit-probe"
VERSION = "1.0"
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

# The sdist's build backend, and the code that builds the index's own wheel:
# one source, so the wheel pip downloads and the one it builds are the same.
BACKEND = '''\
"""An in-tree PEP 517 backend: builds the sandpit-probe wheel with zipfile only."""
import base64, hashlib, os, zipfile

NAME, VERSION = "sandpit_probe", "1.0"
FILES = {
    "sandpit_probe.py": 'VERSION = "1.0"\\n',
    NAME + "-" + VERSION + ".dist-info/METADATA": (
        "Metadata-Version: 2.1\\nName: sandpit-probe\\nVersion: " + VERSION + "\\n"
    ),
    NAME + "-" + VERSION + ".dist-info/WHEEL": (
        "Wheel-Version: 1.0\\nGenerator: sandpit-tests\\nRoot-Is-Purelib: true\\n"
        "Tag: py3-none-any\\n"
    ),
}


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    filename = NAME + "-" + VERSION + "-py3-none-any.whl"
    record = NAME + "-" + VERSION + ".dist-info/RECORD"
    lines = []
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as wheel:
        for path, text in FILES.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            lines.append(path + ",sha256=" + digest.decode() + "," + str(len(data)))
            wheel.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), data)
        lines.append(record + ",,")
        wheel.writestr(zipfile.ZipInfo(record, (2020, 1, 1, 0, 0, 0)), "\\n".join(lines) + "\\n")
    return filename
'''
PYPROJECT = """\
[build-system]
requires = []
build-backend = "probe_backend"
backend-path = ["."]
"""


def build_wheel(directory: Path) -> Path:
    namespace: dict[str, object] = {}
    exec(compile(BACKEND, "probe_backend.py", "exec"), namespace)  # noqa: S102 - our own source
    filename = namespace["build_wheel"](str(directory))  # type: ignore[operator]
    return directory / str(filename)


def build_sdist(directory: Path) -> Path:
    path = directory / f"sandpit_probe-{VERSION}.tar.gz"
    with tarfile.open(path, "w:gz") as sdist:
        for name, text in (
            ("pyproject.toml", PYPROJECT),
            ("probe_backend.py", BACKEND),
            ("PKG-INFO", f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n"),
        ):
            data = text.encode()
            info = tarfile.TarInfo(f"sandpit_probe-{VERSION}/{name}")
            info.size, info.mode = len(data), 0o644
            sdist.addfile(info, io.BytesIO(data))
    return path


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for HOST signed by it: (ca, cert, key)."""
    ca, ca_key = directory / "ca.crt", directory / "ca.key"
    cert, key, request = (
        directory / "server.crt",
        directory / "server.key",
        directory / "server.csr",
    )
    extensions = directory / "server.ext"
    extensions.write_text(
        f"subjectAltName=IP:{HOST}\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    for argv in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
         "-days", "2", "-subj", "/CN=Sandpit test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request,
         "-subj", f"/CN={HOST}"],
        ["x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "2", "-extfile", extensions],
    ):  # fmt: skip
        subprocess.run(["openssl", *map(str, argv)], check=True, capture_output=True, timeout=60)
    return ca, cert, key


@dataclass
class LocalIndex:
    port: int
    ca_bundle: Path
    requests: list[str] = field(default_factory=list)

    @property
    def authority(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"https://{self.authority}/simple/"


def page(files: dict[str, bytes]) -> bytes:
    links = "".join(
        f'<a href="/files/{html.escape(name)}#sha256={hashlib.sha256(data).hexdigest()}">'
        f"{html.escape(name)}</a>\n"
        for name, data in files.items()
    )
    return f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()


@contextlib.contextmanager
def local_index() -> Iterator[LocalIndex]:
    """Serve the index on HOST (a free port) until the block ends."""
    work = public_tmp("sandpit-index-")
    try:
        ca, cert, key = make_certificates(work)
        bundle = work / "ca-bundle.crt"
        bundle.write_bytes(SYSTEM_BUNDLE.read_bytes() + b"\n" + ca.read_bytes())
        bundle.chmod(0o644)
        files = {path.name: path.read_bytes() for path in (build_wheel(work), build_sdist(work))}
        routes = {"/simple/": b'<a href="/simple/sandpit-probe/">sandpit-probe</a>\n'}
        routes[f"/simple/{NAME}/"] = page(files)
        routes.update({f"/files/{name}": data for name, data in files.items()})
        seen: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                body = routes.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                kind = (
                    "text/html" if self.path.startswith("/simple/") else "application/octet-stream"
                )
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the requests are recorded in `seen`

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LocalIndex(server.server_address[1], bundle, seen)
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
    finally:
        shutil.rmtree(work, ignore_errors=True)
