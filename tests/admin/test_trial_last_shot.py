"""A trial of unsaved settings on the slot's last booth shot instead of an uploaded photo: offered only to
admins who may run tests and only while the shot is younger than the result lifetime; cleanup removes it
after that."""

import os
import re
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.cleanup.service import run_cleanup
from photochanger.core import last_shots
from photochanger.core.time import utcnow
from photochanger.models import Job, Slot
from tests.admin.conftest import csrf_of
from tests.support import images

SHOT_SIZE = (480, 360)


def _keep(app: FastAPI, slot_id: str, tmp_path: Path) -> Path:
    upload = tmp_path / "shot.upload"
    upload.write_bytes(images.jpeg(*SHOT_SIZE, color=(10, 200, 90)))
    root: Path = app.state.config.media_root
    last_shots.keep(app.state.config.media_store(), slot_id, upload, "image/jpeg")
    return root / last_shots.key_of(slot_id)


def _no_file_body(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The multipart body Chromium sends when the file input is left empty: the part is there, with
    `filename=""` and no bytes (httpx would leave the filename out)."""
    boundary = "----trialboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n"
    )
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}


def _form(editor: str, **extra: str) -> dict[str, str]:
    return {
        "csrf": csrf_of(editor),
        "display_name": "Typed, not saved",
        "provider": "local",
        "operation": "passthrough",
        "output_format": "png",
        "is_active": "on",
        "version": "1",
        **extra,
    }


async def test_a_trial_runs_on_the_last_booth_shot(
    app: FastAPI, admin_ui: httpx.AsyncClient, tmp_path: Path
) -> None:
    no_shot = await admin_ui.get("/admin/slots/slot-003")
    assert 'id="no-last-shot"' in no_shot.text
    _keep(app, "slot-003", tmp_path)
    editor = await admin_ui.get("/admin/slots/slot-003")
    assert 'id="trial-last-shot"' in editor.text
    preview_url = re.search(r'<img src="([^"]+)" alt="Last booth shot" id="last-shot-preview"', editor.text)
    assert preview_url is not None
    preview = await admin_ui.get(preview_url.group(1).replace("&amp;", "&"))
    assert (preview.status_code, preview.headers["cache-control"]) == (200, "private, no-store")
    assert max(images.decode(preview.content).size) == 320

    body, headers = _no_file_body(_form(editor.text, use_last_shot="1"))
    response = await admin_ui.post("/admin/slots/slot-003/trial", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert 'id="trial-outcome" data-ok="true"' in response.text
    assert 'value="Typed, not saved"' in response.text
    after = re.search(r'<img src="(/public/results/[^"]+)" alt="After" id="trial-after">', response.text)
    assert after is not None
    result = await admin_ui.get(after.group(1))
    assert result.headers["content-type"] == "image/png"
    assert images.decode(result.content).size == SHOT_SIZE
    async with app.state.sessionmaker() as session:
        [job] = (await session.execute(select(Job))).scalars().all()
        assert (job.source, job.input_size) == (
            "ui_test",
            (app.state.config.media_root / last_shots.key_of("slot-003")).stat().st_size,
        )
        slot = await session.get(Slot, "slot-003")
        assert slot is not None
        assert (slot.version, slot.display_name) == (1, "Slot 3")
    assert (app.state.config.media_root / last_shots.key_of("slot-003")).is_file()  # still kept
    assert not list(app.state.ingest.layout.temp.glob("*.upload"))


async def test_without_a_recent_shot_the_trial_says_so(
    app: FastAPI, admin_ui: httpx.AsyncClient, tmp_path: Path
) -> None:
    editor = await admin_ui.get("/admin/slots/slot-004")
    body, headers = _no_file_body(_form(editor.text, use_last_shot="1"))
    missing = await admin_ui.post("/admin/slots/slot-004/trial", content=body, headers=headers)
    assert missing.status_code == 404
    assert "This slot has had no booth shot recently" in missing.text
    assert 'value="Typed, not saved"' in missing.text
    path = _keep(app, "slot-004", tmp_path)
    hours = 72  # the default result lifetime
    old = (utcnow() - timedelta(hours=hours + 1)).timestamp()
    os.utime(path, (old, old))
    assert 'id="no-last-shot"' in (await admin_ui.get("/admin/slots/slot-004")).text
    assert (await admin_ui.get("/admin/slots/slot-004/last-shot")).status_code == 404
    async with app.state.sessionmaker() as session:
        assert (await session.execute(select(Job))).first() is None
    report = await run_cleanup(app.state.engine, app.state.config, now=utcnow())
    assert report.last_shots_deleted == 1
    assert not path.exists()


async def test_the_last_shot_is_for_admins_who_may_run_tests(
    app: FastAPI, operator_ui: httpx.AsyncClient, tmp_path: Path
) -> None:
    _keep(app, "slot-005", tmp_path)
    assert (await operator_ui.get("/admin/slots/slot-005/last-shot")).status_code == 403
    editor = await operator_ui.get("/admin/slots/slot-005")
    assert "last-shot" not in editor.text
    assert (await operator_ui.get("/public/slots/last-shot/slot-005")).status_code == 404


async def test_an_operator_cannot_try_on_a_guests_original(
    app: FastAPI, operator_ui: httpx.AsyncClient, tmp_path: Path
) -> None:
    _keep(app, "slot-006", tmp_path)
    editor = await operator_ui.get("/admin/slots/slot-006")
    body, headers = _no_file_body(_form(editor.text, use_last_shot="1"))
    refused = await operator_ui.post("/admin/slots/slot-006/trial", content=body, headers=headers)
    assert refused.status_code == 403
    async with app.state.sessionmaker() as session:
        assert (await session.execute(select(Job))).first() is None
    assert not list(app.state.ingest.layout.temp.glob("*.upload"))
