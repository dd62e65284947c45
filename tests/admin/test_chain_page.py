"""A slot's fallbacks and hedging set on `/admin/slots/{id}/chain`, validated like the API."""

import json

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from photochanger.models import Slot
from tests.admin.conftest import csrf_of

PAGE = "/admin/slots/slot-001/chain"
LINK = {"prompt": "make it gold", "model": "gpt-image-1"}


async def _gemini_slot(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Slot)
            .where(Slot.id == "slot-001")
            .values(provider="gemini", operation="edit", settings={"params": {"prompt": "gold"}})
        )


async def test_admin_sets_a_fallback_and_hedging_and_the_slot_api_shows_them(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    await _gemini_slot(app)
    page = await admin_ui.get(PAGE)
    assert page.status_code == 200
    version = (await admin_ui.get("/api/slots/slot-001")).json()["version"]
    form = {
        "csrf": csrf_of(page.text),
        "version": str(version),
        "link0.op": "gpt_image:edit",
        "link0.params": json.dumps(LINK),
        "hedge_after_seconds": "3",
    }
    saved = await admin_ui.post(PAGE, data=form)
    assert saved.status_code == 303, saved.text
    slot = (await admin_ui.get("/api/slots/slot-001")).json()
    assert slot["fallbacks"] == [{"provider": "gpt_image", "operation": "edit", "params": LINK}]
    assert slot["hedge_after_seconds"] == 3
    assert slot["params"] == {"prompt": "gold"}
    shown = await admin_ui.get(PAGE)
    assert 'value="gpt_image:edit" selected' in shown.text


async def test_a_fallback_that_cannot_work_is_refused_with_its_field_and_nothing_saved(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    await _gemini_slot(app)
    page = await admin_ui.get(PAGE)
    version = (await admin_ui.get("/api/slots/slot-001")).json()["version"]
    base = {"csrf": csrf_of(page.text), "version": str(version), "link0.op": "gpt_image:edit"}
    missing = await admin_ui.post(PAGE, data={**base, "link0.params": "{}"})
    assert missing.status_code == 422
    assert "fallbacks.0.params.prompt" in missing.text
    broken = await admin_ui.post(PAGE, data={**base, "link0.params": "{not json"})
    assert broken.status_code == 422
    assert "Fallback 1: the parameters are not a JSON object." in broken.text
    slot = (await admin_ui.get("/api/slots/slot-001")).json()
    assert slot["fallbacks"] == []
    assert slot["version"] == version
