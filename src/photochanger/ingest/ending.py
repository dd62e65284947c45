"""Ending jobs: a job's row leaves `pending` and the stats rollups count it in the same transaction, the
original shot is kept for its event, and live dashboards are told. Every path that ends a job comes here:
the pipeline's outcome, start-up recovery, a dead node's reaping and the graceful shutdown."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.ingest import repository
from photochanger.stats import service as stats_service


async def finish(
    session: AsyncSession, job_id: str, *, original: tuple[str, str, int] | None = None, **values: Any
) -> bool:
    """Move a pending job to its terminal state, counted in the rollups; False when it was no longer
    pending. On PostgreSQL the move and the rollups are one statement (one round trip). `original` is the
    (event id, relative path, size) of the original shot kept for the job's event."""
    moving = repository.finishing(job_id, stats_service.FINISHED_COLUMNS, **values)
    if repository.on_postgresql(session):
        count, slot_id = await repository.one_of(session, stats_service.moved_and_counted(moving))
        slots = {slot_id} if count else set()
    else:
        moved = await repository.rows_of(session, moving)
        await stats_service.count_finished(session, moved)
        slots = {row[0] for row in moved}
    if slots and original is not None:
        event_id, relpath, size = original
        await repository.add_event_photo(session, job_id, event_id, relpath, size)
    await repository.notify_finished(session, slots)
    return bool(slots)


async def interrupt_owned(session: AsyncSession, owner: str, *, now: Any) -> int:
    """End every job this process still has pending as `interrupted` (graceful shutdown), counted in the
    rollups."""
    moved = await repository.rows_of(
        session, repository.interrupting(owner, stats_service.FINISHED_COLUMNS, now=now)
    )
    await stats_service.count_finished(session, moved)
    await repository.notify_finished(session, {row[0] for row in moved})
    return len(moved)
