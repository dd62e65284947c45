"""The Duplicate page of the slot editor: a switched-off slot is offered first and written at once; a
switched-on one asks again before its settings are replaced; the audit log says who copied what where."""

import httpx
from fastapi import FastAPI

from photochanger.models import Slot
from tests.admin.conftest import csrf_of


async def _switch_off(ui: httpx.AsyncClient, slot_id: str) -> None:
    page = await ui.get("/admin")
    done = await ui.post(
        "/admin/bulk/slots", data={"csrf": csrf_of(page.text), "action": "disable", "slot": slot_id}
    )
    assert done.status_code == 303


async def test_duplicating_into_a_switched_off_slot(app: FastAPI, admin_ui: httpx.AsyncClient) -> None:
    await _switch_off(admin_ui, "slot-012")
    editor = await admin_ui.get("/admin/slots/slot-003")
    assert 'href="/admin/slots/slot-003/duplicate" id="duplicate-link"' in editor.text
    page = await admin_ui.get("/admin/slots/slot-003/duplicate")
    assert page.status_code == 200
    assert 'value="slot-012:2" checked' in page.text  # the free slot is preselected
    assert 'value="slot-003:' not in page.text
    assert page.text.index('data-target="slot-012"') < page.text.index('data-target="slot-001"')
    done = await admin_ui.post(
        "/admin/slots/slot-003/duplicate", data={"csrf": csrf_of(page.text), "target": "slot-012:2"}
    )
    assert (done.status_code, done.headers["location"]) == (303, "/admin/slots/slot-012?saved=1")
    async with app.state.sessionmaker() as session:
        slot = await session.get(Slot, "slot-012")
        assert slot is not None
        assert (slot.display_name, slot.is_active, slot.version) == ("Slot 3 (copy)", False, 3)
    audit = await admin_ui.get("/admin/audit?action=slot.duplicate")
    assert "ui-admin duplicated Slot 3 into Slot 3 (copy)" in audit.text


async def test_a_switched_on_target_is_confirmed_first(app: FastAPI, admin_ui: httpx.AsyncClient) -> None:
    page = await admin_ui.get("/admin/slots/slot-003/duplicate")
    asked = await admin_ui.post(
        "/admin/slots/slot-003/duplicate", data={"csrf": csrf_of(page.text), "target": "slot-004:1"}
    )
    assert asked.status_code == 409
    assert 'id="duplicate-warning"' in asked.text
    assert 'name="target" value="slot-004:1"' in asked.text
    async with app.state.sessionmaker() as session:
        untouched = await session.get(Slot, "slot-004")
        assert untouched is not None
        assert untouched.version == 1
    done = await admin_ui.post(
        "/admin/slots/slot-003/duplicate",
        data={"csrf": csrf_of(asked.text), "target": "slot-004:1", "confirm": "on"},
    )
    assert (done.status_code, done.headers["location"]) == (303, "/admin/slots/slot-004?saved=1")
    async with app.state.sessionmaker() as session:
        slot = await session.get(Slot, "slot-004")
        assert slot is not None
        assert (slot.display_name, slot.is_active) == ("Slot 3 (copy)", True)


async def test_a_stale_or_bad_choice_is_refused_with_a_message(
    app: FastAPI, admin_ui: httpx.AsyncClient, operator_ui: httpx.AsyncClient
) -> None:
    page = await admin_ui.get("/admin/slots/slot-003/duplicate")
    stale = await admin_ui.post(
        "/admin/slots/slot-003/duplicate",
        data={"csrf": csrf_of(page.text), "target": "slot-005:9", "confirm": "on"},
    )
    assert stale.status_code == 409
    assert "That slot was changed meanwhile" in stale.text
    bad = await admin_ui.post(
        "/admin/slots/slot-003/duplicate", data={"csrf": csrf_of(page.text), "target": "nonsense"}
    )
    assert bad.status_code == 422
    onto = await admin_ui.post(
        "/admin/slots/slot-003/duplicate",
        data={"csrf": csrf_of(page.text), "target": "slot-003:1", "confirm": "on"},
    )
    assert onto.status_code == 422
    assert "Choose another slot than the one being duplicated." in onto.text
    assert (await operator_ui.get("/admin/slots/slot-003/duplicate")).status_code == 403
    assert (await admin_ui.get("/admin/slots/slot-099/duplicate")).status_code == 404
