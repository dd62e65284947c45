"""The wheel carries the migrations: `photochanger migrate` works from an installed package, far from the
checkout."""

import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from photochanger.core import migrations

REPO = Path(__file__).resolve().parents[1]


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(migrations.alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


@pytest.mark.slow
def test_an_installed_wheel_migrates_a_scratch_database(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-qq",
            "--no-deps",
            "--disable-pip-version-check",
            "-w",
            dist,
            REPO,
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("photochanger-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "photochanger/migrations/env.py" in names
    assert "photochanger/migrations/script.py.mako" in names
    shipped = {Path(n).name for n in names if n.startswith("photochanger/migrations/versions/")}
    assert shipped == {p.name for p in (REPO / "alembic" / "versions").glob("*.py")}

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "-qq", "--disable-pip-version-check", wheel],
        check=True,
        cwd=tmp_path,
    )
    database = tmp_path / "scratch.sqlite"
    env = {
        "PATH": "/usr/bin:/bin",
        "PHOTOCHANGER_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "PHOTOCHANGER_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [venv / "bin" / "photochanger", "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database migrated to head" in result.stdout
    # The installed copy ran, not the checkout's.
    where = subprocess.run(
        [venv / "bin" / "python", "-c", "import photochanger; print(photochanger.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(venv))
    with sqlite3.connect(database) as db:
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        assert version == _head_revision()
        assert db.execute("SELECT count(*) FROM slot").fetchone() == (15,)
