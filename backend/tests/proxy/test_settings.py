"""The proxy's settings, and how the server builds the proxy from them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sandpit.config import Settings
from sandpit.proxy.limits import MiB
from sandpit.sandboxes import build_proxy, ca_bundle_for


def make(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, python_sandbox_path=tmp_path, **values)  # type: ignore[call-arg, arg-type]


def test_defaults_allow_the_index_only(tmp_path: Path) -> None:
    settings = make(tmp_path)
    assert settings.package_proxy_allowed_hosts == ["pypi.org:443", "files.pythonhosted.org:443"]
    assert settings.package_proxy_ca_bundle == Path("/etc/ssl/certs/ca-certificates.crt")
    proxy = build_proxy(settings)
    assert proxy is not None
    assert proxy.allowlist.targets == (("pypi.org", 443), ("files.pythonhosted.org", 443))
    assert proxy.limits.window_bytes == 500 * MiB
    assert proxy.socket_root == tmp_path / "sandboxes" / "proxy"


def test_a_malformed_allowlist_entry_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"'pypi\.org' is not host:port"):
        make(tmp_path, package_proxy_allowed_hosts=["pypi.org"])


def test_disabled_means_no_proxy(tmp_path: Path) -> None:
    assert build_proxy(make(tmp_path, package_proxy_enabled=False)) is None


def test_ca_bundle_falls_back_to_the_images_own(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    own = rootfs / "etc/ssl/certs/ca-certificates.crt"
    own.parent.mkdir(parents=True)
    own.write_text("-----BEGIN CERTIFICATE-----\n")
    configured = tmp_path / "bundle.crt"
    configured.write_text("-----BEGIN CERTIFICATE-----\n")
    assert ca_bundle_for(make(tmp_path, package_proxy_ca_bundle=configured), rootfs) == configured
    assert ca_bundle_for(make(tmp_path, package_proxy_ca_bundle=""), rootfs) == own
    missing = tmp_path / "missing.crt"
    assert ca_bundle_for(make(tmp_path, package_proxy_ca_bundle=missing), rootfs) == own


def test_local_hosts_must_be_allowed_hosts_too(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"local target '127\.0\.0\.2:8443' is not on"):
        make(tmp_path, package_proxy_local_hosts=["127.0.0.2:8443"])
    settings = make(
        tmp_path,
        package_proxy_allowed_hosts=["pypi.org:443", "127.0.0.2:8443"],
        package_proxy_local_hosts=["127.0.0.2:8443"],
    )
    proxy = build_proxy(settings)
    assert proxy is not None
    assert proxy.allowlist.may_be_local("127.0.0.2", 8443)
    assert not proxy.allowlist.may_be_local("127.0.0.2", 8444)
    assert not proxy.allowlist.may_be_local("pypi.org", 443)
