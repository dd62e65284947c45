"""The slot editor shows the provider's notes on the saved configuration: a model and quality slower than
the booth waits, or a configuration saved before a check existed that can only fail."""

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from photochanger.models import Slot


async def _configure(app: FastAPI, provider: str, operation: str, settings: dict[str, object]) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Slot)
            .where(Slot.id == "slot-004")
            .values(provider=provider, operation=operation, settings=settings)
        )


async def test_the_editor_warns_when_the_model_and_quality_are_slower_than_the_booth_waits(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    await _configure(app, "gpt_image", "edit", {"params": {"prompt": "p", "quality": "high"}})
    page = await admin_ui.get("/admin/slots/slot-004")
    assert page.status_code == 200
    assert "longer than the booth waits" in page.text


async def test_the_editor_flags_a_saved_configuration_that_can_only_fail(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    params = {"prompt": "p", "model": "gpt-image-1-mini", "input_fidelity": "high"}
    await _configure(app, "gpt_image", "edit", {"params": params})
    page = await admin_ui.get("/admin/slots/slot-004")
    assert "does not take input_fidelity" in page.text


async def test_the_editor_has_no_note_for_a_configuration_that_is_fine(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    await _configure(app, "gpt_image", "edit", {"params": {"prompt": "p", "quality": "low"}})
    page = await admin_ui.get("/admin/slots/slot-004")
    assert "longer than the booth waits" not in page.text
    assert 'class="banner info"' not in page.text
