"""`photochanger cleanup` and `scripts/cleanup_media.py`: output, --dry-run, --now and exit codes."""

import sys
from datetime import timedelta
from pathlib import Path

import anyio
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.cli import main
from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.core.time import utcnow
from photochanger.models.job import Job
from tests.support.jobs import add_job
from tests.support.server import config_env

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env_config(config: AppConfig, monkeypatch: pytest.MonkeyPatch) -> AppConfig:
    for name, value in config_env(config).items():
        if name.startswith("PHOTOCHANGER_"):
            monkeypatch.setenv(name, value)
    return config


async def _expired_job(config: AppConfig) -> Job:
    engine = create_engine(config.database_url, pool_size=1)
    try:
        return await add_job(
            create_sessionmaker(engine), config.media_root, expires_at=utcnow() + timedelta(hours=1)
        )
    finally:
        await engine.dispose()


async def _cleaned_at(config: AppConfig, job_id: str) -> object:
    engine = create_engine(config.database_url, pool_size=1)
    try:
        async with AsyncSession(engine) as session:
            job = await session.get(Job, job_id)
            assert job is not None
            return job.cleaned_at
    finally:
        await engine.dispose()


def _in_two_hours() -> str:
    return (utcnow() + timedelta(hours=2)).isoformat()


async def test_dry_run_then_real_run_with_now_in_the_future(
    env_config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    job = await _expired_job(env_config)
    assert job.result_path is not None
    result = env_config.media_root / job.result_path

    # The CLI runs its own event loop, so it is called from a worker thread here.
    code = await anyio.to_thread.run_sync(main, ["cleanup", "--dry-run", "--now", _in_two_hours()])
    out = capsys.readouterr().out
    assert code == 0
    assert "dry run: nothing changed" in out
    assert "would delete: 1 results, 1 previews" in out
    assert result.exists()

    code = await anyio.to_thread.run_sync(main, ["cleanup", "--now", _in_two_hours()])
    out = capsys.readouterr().out
    assert code == 0
    assert "deleted: 1 results, 1 previews" in out
    assert "expired jobs: 1, marked cleaned: 1" in out
    assert not result.exists()
    assert await _cleaned_at(env_config, job.id) is not None


def test_now_without_an_offset_is_refused(env_config: AppConfig, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["cleanup", "--now", "2026-11-22T12:00:00"])
    assert exc.value.code == 2
    assert "UTC offset" in capsys.readouterr().err


def test_an_unreachable_database_exits_non_zero(
    env_config: AppConfig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PHOTOCHANGER_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:9/none")
    monkeypatch.setenv("PHOTOCHANGER_DB_CONNECT_TIMEOUT_SECONDS", "1")
    assert main(["cleanup"]) == 1
    assert "cleanup: failed" in capsys.readouterr().err


async def test_script_is_a_thin_wrapper(env_config: AppConfig) -> None:
    job = await _expired_job(env_config)
    args = [sys.executable, str(REPO / "scripts" / "cleanup_media.py"), "--now", _in_two_hours()]
    proc = await anyio.run_process(args, env=config_env(env_config), check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert "expired jobs: 1, marked cleaned: 1" in proc.stdout.decode()
    assert await _cleaned_at(env_config, job.id) is not None
