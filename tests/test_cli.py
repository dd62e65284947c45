"""The command line: version, migrate, invalid configuration."""

import os
import subprocess
import sys
from pathlib import Path

from photochanger import __version__


def _run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "photochanger", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTOCHANGER_")}
    env.update(extra)
    return env


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    result = _run("version", env=_env(), cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == __version__


def test_migrate_creates_the_default_sqlite_database_under_var(tmp_path: Path) -> None:
    result = _run("migrate", env=_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "photochanger.db").is_file()


def test_production_without_secret_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    result = _run("migrate", env=_env(PHOTOCHANGER_ENV="production"), cwd=tmp_path)
    assert result.returncode == 2
    assert "PHOTOCHANGER_JWT_SECRET" in result.stderr
    assert "Traceback" not in result.stderr
