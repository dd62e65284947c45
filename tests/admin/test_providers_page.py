"""Settings → Providers over httpx: keys added, checked, replaced and removed through the forms; the key
never appears on a page; a key the provider refuses shows red on the dashboard."""

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.core.time import utcnow
from photochanger.models import AuditLog, KeyStatus, ProviderKey, ProviderSetting
from photochanger.usage import service as usage_service
from tests.admin.conftest import csrf_of
from tests.fakes.fixtures import gemini_fake, gemini_server
from tests.fakes.gemini import GeminiFake

__all__ = ["gemini_fake", "gemini_server"]

PAGE = "/admin/settings/providers"
GOOD = GeminiFake.api_key
BAD = "revoked-key-WXYZ"


@pytest.fixture
def config_overrides(gemini_server: GeminiFake) -> dict[str, Any]:
    return {"gemini_base_url": gemini_server.url}


async def _keys(app: FastAPI) -> list[ProviderKey]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(ProviderKey).order_by(ProviderKey.created_at))).all())


async def _add(ui: httpx.AsyncClient, key: str, label: str = "") -> httpx.Response:
    page = await ui.get(PAGE)
    return await ui.post(
        f"{PAGE}/keys",
        data={"csrf": csrf_of(page.text), "provider": "gemini", "api_key": key, "label": label},
    )


async def test_admin_adds_checks_replaces_and_removes_a_key_without_ever_seeing_it(
    app: FastAPI, admin_ui: httpx.AsyncClient, gemini_fake: GeminiFake
) -> None:
    added = await _add(admin_ui, GOOD, label="Event")
    assert added.status_code == 303
    page = await admin_ui.get(PAGE)
    assert page.status_code == 200
    assert GOOD not in page.text
    assert f"…{GOOD[-4:]}" in page.text
    assert "Set by ui-admin on" in page.text
    (row,) = await _keys(app)

    checked = await admin_ui.post(f"{PAGE}/keys/{row.id}/check", data={"csrf": csrf_of(page.text)})
    assert checked.status_code == 200
    assert "Connection ok." in checked.text

    replaced = await admin_ui.post(
        f"{PAGE}/keys/{row.id}/replace", data={"csrf": csrf_of(page.text), "api_key": BAD}
    )
    assert replaced.status_code == 303
    page = await admin_ui.get(PAGE)
    assert BAD not in page.text
    refused = await admin_ui.post(f"{PAGE}/keys/{row.id}/check", data={"csrf": csrf_of(page.text)})
    assert "The provider answered: gemini answered 400 INVALID_ARGUMENT: API key not valid." in refused.text
    assert BAD not in refused.text

    removed = await admin_ui.post(f"{PAGE}/keys/{row.id}/delete", data={"csrf": csrf_of(page.text)})
    assert removed.status_code == 303
    assert await _keys(app) == []
    async with app.state.sessionmaker() as session:
        actions = (
            await session.scalars(select(AuditLog.action).where(AuditLog.target == f"provider_key:{row.id}"))
        ).all()
    assert sorted(actions) == ["provider_key.add", "provider_key.remove", "provider_key.replace"]


async def test_a_key_that_cannot_work_is_refused_on_the_page_with_nothing_saved(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    response = await _add(admin_ui, "short")
    assert response.status_code == 422
    assert "The key was not saved." in response.text
    assert "at least 8 characters" in response.text
    assert await _keys(app) == []


async def test_forms_without_the_csrf_token_change_nothing(app: FastAPI, admin_ui: httpx.AsyncClient) -> None:
    response = await admin_ui.post(f"{PAGE}/keys", data={"provider": "gemini", "api_key": GOOD})
    assert response.status_code == 403
    assert await _keys(app) == []


async def test_operators_can_neither_see_nor_change_keys(
    app: FastAPI, operator_ui: httpx.AsyncClient
) -> None:
    assert (await operator_ui.get(PAGE)).status_code == 403
    page_csrf = csrf_of((await operator_ui.get("/admin/account")).text)
    denied = await operator_ui.post(
        f"{PAGE}/keys", data={"csrf": page_csrf, "provider": "gemini", "api_key": GOOD}
    )
    assert denied.status_code == 403
    assert await _keys(app) == []


async def test_a_broken_key_is_shown_red_on_the_dashboard(app: FastAPI, admin_ui: httpx.AsyncClient) -> None:
    assert (await _add(admin_ui, BAD)).status_code == 303
    dashboard = await admin_ui.get("/admin")
    assert 'id="broken-keys"' not in dashboard.text
    async with app.state.sessionmaker() as session, session.begin():
        (row,) = (await session.scalars(select(ProviderKey))).all()
        row.status = KeyStatus.broken
    dashboard = await admin_ui.get("/admin")
    banner = re.search(
        r'<p class="banner error" role="alert" id="broken-keys">(.*?)</p>', dashboard.text, re.S
    )
    assert banner is not None
    assert f"gemini …{BAD[-4:]}" in banner.group(1)
    page = await admin_ui.get(PAGE)
    assert 'class="key broken"' in page.text


async def test_dashboard_shows_todays_spend_and_stats_the_usage_table(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await usage_service.record(
            session,
            slot_id="slot-001",
            started=utcnow(),
            calls=[usage_service.Call("gemini", "env", "gemini-3-pro-image", image=True)] * 3,
            prices={"gemini": {"gemini-3-pro-image": 0.134}},
        )
    dashboard = await admin_ui.get("/admin")
    assert "Today's estimated provider spend: 0.40" in dashboard.text
    stats = await admin_ui.get("/admin/stats")
    assert stats.status_code == 200
    table = re.search(r'<section class="card stack" id="usage">(.*?)</section>', stats.text, re.S)
    assert table is not None
    assert "gemini-3-pro-image" in table.group(1)
    assert "<td>3</td>" in table.group(1)


async def test_provider_settings_are_saved_from_the_page_and_bad_ones_refused(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    page = await admin_ui.get(PAGE)
    form = {
        "csrf": csrf_of(page.text),
        "concurrency": "2",
        "default_model": "gemini-3-pro-image",
        "price.gemini-3-pro-image": "0.134",
        "price.gemini-2.5-flash-image": "",
    }
    saved = await admin_ui.post(f"{PAGE}/gemini/settings", data=form)
    assert saved.status_code == 303
    async with app.state.sessionmaker() as session:
        row = await session.get(ProviderSetting, "gemini")
        assert row is not None
        assert (row.concurrency, row.default_model, row.prices) == (
            2,
            "gemini-3-pro-image",
            {"gemini-3-pro-image": 0.134},
        )
    shown = await admin_ui.get(PAGE)
    assert 'value="0.134"' in shown.text
    refused = await admin_ui.post(f"{PAGE}/gemini/settings", data={**form, "concurrency": "0"})
    assert refused.status_code == 422
    assert "The provider settings were not saved." in refused.text
    async with app.state.sessionmaker() as session:
        row = await session.get(ProviderSetting, "gemini")
        assert row is not None
        assert row.concurrency == 2
