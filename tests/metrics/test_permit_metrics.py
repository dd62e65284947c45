"""`jobs_in_flight` and `permit_waits_total` come from the permits ingest takes (any limiter behind it)."""

import asyncio

import httpx
from fastapi import FastAPI

from photochanger.core.limits import Limits, PermitTimeout
from tests.metrics.test_metrics import scrape, value

ONE = Limits(slot=1, provider=5, global_=5)


async def test_permits_held_and_waited_for_show_in_the_scrape(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    limiter = app.state.ingest.limiter
    held, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with limiter.permits("slot-001", "local", ONE, wait=1.0):
            held.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await held.wait()
    samples = scrape((await client.get("/metrics")).text)
    assert value(samples, "photochanger_jobs_in_flight") == 1
    assert value(samples, "photochanger_permit_waits_total") == 0
    for _ in range(2):
        try:
            async with limiter.permits("slot-001", "local", ONE, wait=0.05):
                raise AssertionError("the slot's only permit is held")
        except PermitTimeout:
            pass
    release.set()
    await holder
    samples = scrape((await client.get("/metrics")).text)
    assert value(samples, "photochanger_jobs_in_flight") == 0
    assert value(samples, "photochanger_permit_waits_total") == 2
