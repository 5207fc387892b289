"""Settings: documented in full, secrets handled as promised."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sandpit.config import BACKEND_DIR, ConfigError, Settings


def make(tmp_path: Path, **values: object) -> Settings:
    # _env_file=None: the developer's backend/.env must not leak into tests.
    return Settings(_env_file=None, python_sandbox_path=tmp_path, **values)  # type: ignore[call-arg]


def test_every_setting_is_documented_in_env_example() -> None:
    example = (BACKEND_DIR / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    fields = {name.upper() for name in Settings.model_fields}
    assert fields - documented == set()
    assert documented - fields == set()


def test_defaults_follow_the_seed(tmp_path: Path) -> None:
    settings = make(tmp_path)
    assert settings.port == 3001
    assert settings.max_file_bytes == 1024 * 1024
    assert settings.effective_database_url() == f"sqlite+aiosqlite:///{tmp_path / 'sandpit.db'}"


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = make(tmp_path).resolve_jwt_secret()
    second = make(tmp_path).resolve_jwt_secret()
    assert first == second
    assert len(first) == 64
    mode = (tmp_path / "jwt_secret").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


@pytest.mark.parametrize("secret", ["", "change-me", "CHANGE_ME_IN_PRODUCTION", "short"])
def test_production_refuses_missing_or_weak_secret(tmp_path: Path, secret: str) -> None:
    settings = make(tmp_path, sandpit_env="production", jwt_secret=secret)
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        settings.resolve_jwt_secret()
    assert not (tmp_path / "jwt_secret").exists()


def test_production_accepts_a_real_secret(tmp_path: Path) -> None:
    secret = "0123456789abcdef" * 4
    assert (
        make(tmp_path, sandpit_env="production", jwt_secret=secret).resolve_jwt_secret() == secret
    )


def test_server_refuses_to_start_in_production_without_secret(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandpit", "serve"],
        env={
            "PATH": "/usr/bin:/bin",
            "SANDPIT_ENV": "production",
            "PYTHON_SANDBOX_PATH": str(tmp_path),
            "JWT_SECRET": "",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "JWT_SECRET is missing" in result.stderr
