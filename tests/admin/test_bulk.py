"""Several slots at once from the dashboard: switch on or off, copy one slot's settings to others (each
through the versioned, validated, audited slot update), all or nothing."""

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update

from photochanger.models import AuditLog, Slot
from tests.admin.conftest import csrf_of


async def _slots(app: FastAPI) -> dict[str, Slot]:
    async with app.state.sessionmaker() as session:
        return {s.id: s for s in (await session.execute(select(Slot))).scalars()}


async def _post(ui: httpx.AsyncClient, **data: object) -> httpx.Response:
    page = await ui.get("/admin")
    return await ui.post("/admin/bulk/slots", data={"csrf": csrf_of(page.text), **data})


async def test_switch_off_and_on_several_slots(app: FastAPI, admin_ui: httpx.AsyncClient) -> None:
    page = await admin_ui.get("/admin")
    assert 'form="bulk"' in page.text
    off = await _post(admin_ui, action="disable", slot=["slot-002", "slot-003"])
    assert (off.status_code, off.headers["location"]) == (303, "/admin?done=disable&count=2")
    assert "Slots switched off: 2." in (await admin_ui.get(off.headers["location"])).text
    slots = await _slots(app)
    assert (slots["slot-002"].is_active, slots["slot-003"].is_active, slots["slot-001"].is_active) == (
        False,
        False,
        True,
    )
    assert slots["slot-002"].version == 2
    on = await _post(admin_ui, action="enable", slot=["slot-002", "slot-001"])
    assert on.headers["location"] == "/admin?done=enable&count=1"
    assert (await _slots(app))["slot-002"].is_active is True


async def test_copy_settings_keeps_the_targets_names_and_state(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Slot)
            .where(Slot.id == "slot-001")
            .values(operation="filter", settings={"params": {"name": "sepia"}, "output_format": "png"})
        )
        await session.execute(update(Slot).where(Slot.id == "slot-005").values(is_active=False))
    response = await _post(
        admin_ui, action="copy", source="slot-001", slot=["slot-004", "slot-005", "slot-001"]
    )
    assert response.headers["location"] == "/admin?done=copy&count=2"
    slots = await _slots(app)
    for target in ("slot-004", "slot-005"):
        assert (slots[target].provider, slots[target].operation) == ("local", "filter")
        assert slots[target].settings["params"] == {"name": "sepia"}
        assert slots[target].settings["output_format"] == "png"
    assert slots["slot-004"].display_name == "Slot 4"
    assert slots["slot-005"].is_active is False
    async with app.state.sessionmaker() as session:
        audits = await session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "slot.update")
        )
    assert audits == 2


async def test_a_bad_target_changes_nothing(app: FastAPI, admin_ui: httpx.AsyncClient) -> None:
    response = await _post(admin_ui, action="disable", slot=["slot-002", "no-such-slot"])
    assert response.status_code == 404
    assert (await _slots(app))["slot-002"].is_active is True
    nothing = await _post(admin_ui, action="disable")
    assert nothing.status_code == 422


async def test_an_operator_can_neither_see_nor_use_the_bulk_form(operator_ui: httpx.AsyncClient) -> None:
    page = await operator_ui.get("/admin")
    assert 'id="bulk"' not in page.text
    response = await operator_ui.post(
        "/admin/bulk/slots", data={"csrf": csrf_of(page.text), "action": "disable", "slot": "slot-001"}
    )
    assert response.status_code == 403


async def test_the_slot_editor_copies_its_saved_settings_to_chosen_slots(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Slot)
            .where(Slot.id == "slot-007")
            .values(operation="filter", settings={"params": {"name": "bw_high_contrast"}})
        )
    editor = await admin_ui.get("/admin/slots/slot-007")
    form = editor.text.split('id="copy-to"')[1].split("</form>")[0]
    assert 'name="source" value="slot-007"' in form
    assert 'name="slot" value="slot-007"' not in form  # not offered as its own target
    assert 'name="slot" value="slot-008"' in form
    copied = await admin_ui.post(
        "/admin/bulk/slots",
        data={"csrf": csrf_of(editor.text), "action": "copy", "source": "slot-007", "slot": ["slot-008"]},
    )
    assert copied.headers["location"] == "/admin?done=copy&count=1"
    slot = (await _slots(app))["slot-008"]
    assert (slot.operation, slot.settings["params"]) == ("filter", {"name": "bw_high_contrast"})
