"""The typed repository base, exercised through `JobRepository` on a migrated database."""

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.config import AppConfig
from photochanger.jobs.repository import JobRepository
from photochanger.models import Job
from tests.support.jobs import add_job

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


async def test_get_one_all_and_delete(app: FastAPI, config: AppConfig) -> None:
    sessionmaker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    kept = await add_job(sessionmaker, config.media_root, expires_at=NOW, write_files=False)
    gone = await add_job(sessionmaker, config.media_root, expires_at=NOW, write_files=False)
    async with sessionmaker() as session:
        repo = JobRepository(session)
        assert (await repo.get(kept.id)) is not None
        assert await repo.get("x" * 22) is None
        assert {j.id for j in await repo.all(repo.base())} == {kept.id, gone.id}
        found = await repo.one_or_none(repo.base().where(Job.id == gone.id))
        assert found is not None
        await repo.delete(found)
        await session.commit()
    async with sessionmaker() as session:
        assert [j.id for j in await JobRepository(session).all(JobRepository(session).base())] == [kept.id]


async def test_cleanup_pages_split_at_the_expiry(app: FastAPI, config: AppConfig) -> None:
    sessionmaker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    second = timedelta(seconds=1)
    at = await add_job(sessionmaker, config.media_root, expires_at=NOW, write_files=False)
    before = await add_job(sessionmaker, config.media_root, expires_at=NOW - second, write_files=False)
    async with sessionmaker() as session:
        repo = JobRepository(session)
        assert [r.id for r in await repo.expired_page(NOW, after=None, limit=10)] == [before.id]
        assert [r.id for r in await repo.available_page(NOW, after=None, limit=10)] == [at.id]
        await repo.mark_cleaned([at.id], NOW)
        await session.commit()
    async with sessionmaker() as session:
        assert await JobRepository(session).available_page(NOW, after=None, limit=10) == []
