"""Trial runs of unsaved slot settings from the editor: the photo goes through the settings as typed, the
editor comes back with the same edits and the photo before and after, and the live slot is unchanged."""

import re

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.models import Job, Slot
from tests.admin.conftest import csrf_of
from tests.support import images
from tests.support.templates import frame_png


async def _frame(ui: httpx.AsyncClient) -> str:
    page = await ui.get("/admin/media")
    response = await ui.post(
        "/admin/media",
        data={"csrf": csrf_of(page.text), "name": "Gold"},
        files={"file": ("frame.png", frame_png(120, 90), "image/png")},
    )
    assert response.status_code == 303
    return str((await ui.get("/api/template-media")).json()[0]["id"])


async def test_a_trial_runs_the_unsaved_settings_and_keeps_the_edits(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    frame_id = await _frame(admin_ui)
    editor = await admin_ui.get("/admin/slots/slot-003?provider=local&operation=frame")
    assert 'id="trial-run"' in editor.text
    response = await admin_ui.post(
        "/admin/slots/slot-003/trial",
        data={
            "csrf": csrf_of(editor.text),
            "display_name": "Typed, not saved",
            "provider": "local",
            "operation": "frame",
            "param.frame_media_id": frame_id,
            "param.fit": "contain",
            "is_active": "on",
            "version": "1",
        },
        files={"file": ("guest.jpg", images.jpeg(400, 300), "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    assert 'id="trial-outcome" data-ok="true"' in response.text
    assert 'value="Typed, not saved"' in response.text
    assert f'value="{frame_id}" checked' in response.text
    assert 'id="trial-before"' in response.text
    after = re.search(r'<img src="(/public/results/[^"]+)" alt="After" id="trial-after">', response.text)
    assert after is not None
    result = await admin_ui.get(after.group(1))
    assert images.decode(result.content).size == (120, 90)
    async with app.state.sessionmaker() as session:
        slot = await session.get(Slot, "slot-003")
        assert slot is not None
        assert (slot.version, slot.operation, slot.display_name) == (1, "passthrough", "Slot 3")
        [job] = (await session.execute(select(Job))).scalars().all()
        assert (job.source, job.operation) == ("ui_test", "frame")


async def test_a_trial_with_invalid_settings_shows_the_field_errors_and_runs_nothing(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    editor = await admin_ui.get("/admin/slots/slot-003?provider=local&operation=frame")
    response = await admin_ui.post(
        "/admin/slots/slot-003/trial",
        data={
            "csrf": csrf_of(editor.text),
            "display_name": "Still typed",
            "provider": "local",
            "operation": "frame",
            "version": "1",
        },
        files={"file": ("guest.jpg", images.jpeg(400, 300), "image/jpeg")},
    )
    assert response.status_code == 422
    assert 'data-field="frame_media_id"' in response.text
    assert 'class="field-error"' in response.text
    assert 'value="Still typed"' in response.text
    async with app.state.sessionmaker() as session:
        assert (await session.execute(select(Job))).first() is None
    assert not list(app.state.ingest.layout.temp.glob("*.upload"))


async def test_a_trial_needs_the_test_permission_and_a_csrf_token(operator_ui: httpx.AsyncClient) -> None:
    response = await operator_ui.post(
        "/admin/slots/slot-003/trial",
        data={"display_name": "x", "provider": "local", "operation": "passthrough", "version": "1"},
        files={"file": ("guest.jpg", images.jpeg(40, 30), "image/jpeg")},
    )
    assert response.status_code == 403


async def test_switching_the_operation_keeps_the_typed_fields(admin_ui: httpx.AsyncClient) -> None:
    kept = await admin_ui.get(
        "/admin/slots/slot-003",
        params={
            "provider": "local",
            "operation": "frame",
            "kept": "1",
            "display_name": "Typed before the switch",
            "output_format": "png",
        },
    )
    assert kept.status_code == 200
    assert 'name="display_name" value="Typed before the switch"' in kept.text
    assert '<option value="png" selected>' in kept.text
    assert 'name="is_active" checked' not in kept.text  # unticked before the switch: stays unticked
    assert 'name="version" value="1"' in kept.text
    plain = await admin_ui.get("/admin/slots/slot-003?provider=local&operation=frame&display_name=ignored")
    assert 'name="display_name" value="Slot 3"' in plain.text
    assert 'name="is_active" checked' in plain.text
