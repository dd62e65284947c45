"""The systemd units pass `systemd-analyze verify` (with the real executable path substituted)."""

import subprocess
from pathlib import Path

from tests.support.ci import require_tool

REPO = Path(__file__).resolve().parents[2]
UNITS = (
    "photochanger.service",
    "photochanger@.service",
    "photochanger-migrate.service",
    "photochanger-cleanup.service",
    "photochanger-cleanup.timer",
)


def test_units_verify_cleanly(tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze", "checks the unit files")
    exe = REPO / ".venv" / "bin" / "photochanger"
    for name in UNITS:
        text = (REPO / "deploy" / "systemd" / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace("/opt/photochanger/.venv/bin/photochanger", str(exe)))
    out = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip() == ""
    timer = (tmp_path / "photochanger-cleanup.timer").read_text()
    assert "OnCalendar=*:0/15" in timer


def test_the_template_unit_runs_one_instance_per_port_with_its_own_metrics_directory() -> None:
    text = (REPO / "deploy" / "systemd" / "photochanger@.service").read_text(encoding="utf-8")
    assert "serve --host 127.0.0.1 --port %i" in text
    assert "--no-migrate" in text  # photochanger-migrate.service migrates once
    assert "Requires=photochanger-migrate.service" in text
    assert "Environment=PROMETHEUS_MULTIPROC_DIR=/var/lib/photochanger/var/metrics-%i" in text
