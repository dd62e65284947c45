"""`make run` is for a person at a terminal: text logs, the banner that says where to go, `/` → `/admin`."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.server import free_port

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_make_run_prints_text_logs_and_the_admin_sign_in_line(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTOCHANGER_")}
    env.update(
        PHOTOCHANGER_PORT=str(port),
        PHOTOCHANGER_VAR_DIR=str(tmp_path / "var"),
        PHOTOCHANGER_MEDIA_ROOT=str(tmp_path / "media"),
        PHOTOCHANGER_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite'}",
        PHOTOCHANGER_PASSWORD_HASH_MEMORY_KIB="8",
        PHOTOCHANGER_PASSWORD_HASH_TIME_COST="1",
    )
    log = tmp_path / "make-run.log"
    # The test's own virtualenv stands in for .venv (it is installed already: make has nothing to do).
    venv = Path(sys.prefix)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["make", "-s", "--no-print-directory", "run", f"VENV={venv}"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "Uvicorn running" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        root = httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=False)
        assert root.status_code == 307
        assert root.headers["location"] == "/admin"
        assert httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=True).url.path == "/admin/login"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    text = log.read_text(errors="replace")
    assert re.search(
        rf"^  Open http://127\.0\.0\.1:{port}/admin and sign in as admin / \S+$", text, re.MULTILINE
    ), text
    lines = [line for line in text.splitlines() if line.strip()]
    assert not [line for line in lines if line.lstrip().startswith("{")], "JSON log lines under make run"
    assert not [line for line in lines if "Running upgrade" in line], "alembic noise under make run"
    assert any(re.match(r"^\d\d:\d\d:\d\d INFO ", line) for line in lines)
    assert "pip" not in text.lower()
