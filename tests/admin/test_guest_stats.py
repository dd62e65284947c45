"""The Stats page lists guest page opens and downloads per slot, by the slot's name, for the window."""

from datetime import timedelta

import httpx
from fastapi import FastAPI

from photochanger.core.time import utcnow
from photochanger.models import JobStatus
from tests.support.jobs import add_job


async def test_the_stats_page_lists_guests_per_slot_by_name(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    empty = await admin_ui.get("/admin/stats?window=1h")
    assert 'id="guest-empty"' in empty.text
    job = await add_job(
        app.state.sessionmaker,
        app.state.config.media_root,
        slot_id="slot-004",
        status=JobStatus.done,
        expires_at=utcnow() + timedelta(hours=1),
    )
    for _ in range(3):
        assert (await admin_ui.get(f"/r/{job.id}")).status_code == 200
    assert (await admin_ui.get(f"/public/results/{job.id}")).status_code == 200
    page = await admin_ui.get("/admin/stats?window=1h")
    assert page.status_code == 200
    row = page.text.split('<tr data-slot="slot-004">')[1].split("</tr>")[0]
    assert "<td>Slot 4</td>" in row
    assert '<td data-metric="page_open">3</td>' in row
    assert '<td data-metric="download">1</td>' in row
    assert '<th data-metric="page_open">3</th>' in page.text
    assert 'data-slot="slot-005"' not in page.text.split('id="guest-stats"')[1].split("</section>")[0]
