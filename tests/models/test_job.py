"""`Job.result_available`: the one rule for when a result can still be fetched (README: while now <= expiry)."""

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.config import AppConfig
from photochanger.models import Job
from photochanger.models.job import result_available
from tests.support.jobs import add_job

EXPIRES = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _job(*, expires: datetime | None = EXPIRES, cleaned: datetime | None = None) -> Job:
    return Job(result_expires_at=expires, cleaned_at=cleaned)


def test_a_result_is_available_up_to_and_including_its_expiry() -> None:
    assert _job().result_available(EXPIRES - SECOND)
    assert _job().result_available(EXPIRES)
    assert not _job().result_available(EXPIRES + SECOND)


def test_a_cleaned_or_never_stored_result_is_not_available() -> None:
    assert not _job(cleaned=EXPIRES - 2 * SECOND).result_available(EXPIRES - SECOND)
    assert not _job(expires=None).result_available(EXPIRES)
    assert not result_available(None, EXPIRES)


def test_naive_now_is_read_as_utc() -> None:
    assert result_available(EXPIRES, EXPIRES.replace(tzinfo=None))


async def test_the_sql_condition_gives_the_same_answers(app: FastAPI, config: AppConfig) -> None:
    sessionmaker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    cases = [(EXPIRES, None), (EXPIRES - SECOND, None), (EXPIRES + SECOND, EXPIRES - SECOND), (None, None)]
    for expires, cleaned in cases:
        await add_job(
            sessionmaker, config.media_root, expires_at=expires, cleaned_at=cleaned, write_files=False
        )
    async with sessionmaker() as session:
        everything = (await session.execute(select(Job))).scalars().all()
        picked = (
            (await session.execute(select(Job.id).where(Job.result_available_at(EXPIRES)))).scalars().all()
        )
    expected = [job.id for job in everything if job.result_available(EXPIRES)]
    assert sorted(picked) == sorted(expected)
    assert [job.result_expires_at for job in everything if job.id in picked] == [EXPIRES]
