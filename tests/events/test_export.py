"""Per-event exports: the ZIP of every photo the event keeps (originals optional), streamed, and a CSV of
its jobs."""

import csv
import io
import zipfile

import httpx
from fastapi import FastAPI

from tests.events.conftest import create_event, shoot


async def test_the_event_zip_holds_its_results_and_optionally_its_originals(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str], ingest_password: str
) -> None:
    event = await create_event(client, admin_headers, slots=[])
    await client.patch(
        f"/api/events/{event['id']}",
        json={"slots": [{"slot_id": "slot-001", "keep_originals": True}, {"slot_id": "slot-002"}]},
        headers=admin_headers,
    )
    a = (await shoot(client, "slot-001", 1)).headers["x-job-id"]
    b = (await shoot(client, "slot-002", 2)).headers["x-job-id"]
    await shoot(client, "slot-003", 3)
    root = app.state.config.media_root

    plain = await client.get(f"/api/events/{event['id']}/export.zip", headers=admin_headers)
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(plain.content)) as archive:
        names = archive.namelist()
        assert sorted(n.split("/")[0] for n in names) == ["slot-001", "slot-002"]
        by_job = {n.split("/")[1][16:].rsplit(".", 1)[0]: n for n in names}
        assert set(by_job) == {a, b}
        assert archive.read(by_job[a]) == (root / f"results/slot-001/{a}.jpg").read_bytes()

    full = await client.get(f"/api/events/{event['id']}/export.zip?originals=true", headers=admin_headers)
    with zipfile.ZipFile(io.BytesIO(full.content)) as archive:
        originals = [n for n in archive.namelist() if n.startswith("originals/")]
        assert len(originals) == 1
        assert originals[0].startswith("originals/slot-001/")
        assert archive.read(originals[0]) == (root / f"originals/slot-001/{a}.jpg").read_bytes()
    # A hidden photo is still the operator's; a deleted one is gone from the export too.
    await client.post(f"/api/events/{event['id']}/photos/{a}/hide", headers=admin_headers)
    await client.delete(f"/api/events/{event['id']}/photos/{b}", headers=admin_headers)
    after = await client.get(f"/api/events/{event['id']}/export.zip", headers=admin_headers)
    with zipfile.ZipFile(io.BytesIO(after.content)) as archive:
        assert [n.split("/")[1][16:].rsplit(".", 1)[0] for n in archive.namelist()] == [a]
    missing = await client.get(f"/api/events/{'0' * 32}/export.zip", headers=admin_headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "event_not_found"


async def test_the_event_csv_lists_every_job_of_the_event(
    client: httpx.AsyncClient, admin_headers: dict[str, str], ingest_password: str
) -> None:
    event = await create_event(client, admin_headers, slots=["slot-004"])
    ids = [(await shoot(client, "slot-004", n)).headers["x-job-id"] for n in range(3)]
    await shoot(client, "slot-005", 9)
    response = await client.get(f"/api/events/{event['id']}/jobs.csv", headers=admin_headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["job_id"] for r in rows] == ids
    assert {(r["slot_id"], r["status"], r["hidden"]) for r in rows} == {("slot-004", "done", "no")}
    assert all(r["guest_link_expires_at"] for r in rows)
