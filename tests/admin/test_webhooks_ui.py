"""The slot editor's webhook fields (write-only secret, inline 422s, removal) and its deliveries table."""

import re
from datetime import timedelta

import httpx
from fastapi import FastAPI

from photochanger.core.time import utcnow
from photochanger.models import Slot, WebhookDelivery
from tests.admin.conftest import csrf_of
from tests.support.jobs import add_job

SECRET = "whsec-0123456789-abcdef"
URL = "https://hooks.example.com/photochanger"


async def _slot(app: FastAPI, slot_id: str) -> Slot:
    async with app.state.sessionmaker() as session:
        slot: Slot | None = await session.get(Slot, slot_id)
        assert slot is not None
        return slot


def _form(csrf: str, version: int, **extra: str) -> dict[str, str]:
    form = {
        "csrf": csrf,
        "version": str(version),
        "provider": "local",
        "operation": "passthrough",
        "display_name": "Hooked",
        "is_active": "on",
        "output_format": "jpeg",
        "on_failure": "error",
        "size_limit_mb": "",
    }
    form.update(extra)
    return form


def _webhook_section(html: str) -> str:
    match = re.search(r'<fieldset class="webhook".*?</fieldset>', html, re.S)
    assert match is not None, "no webhook fieldset"
    return match.group(0)


async def _save(ui: httpx.AsyncClient, app: FastAPI, slot_id: str, **extra: str) -> httpx.Response:
    page = await ui.get(f"/admin/slots/{slot_id}")
    version = (await _slot(app, slot_id)).version
    return await ui.post(f"/admin/slots/{slot_id}", data=_form(csrf_of(page.text), version, **extra))


async def test_webhook_is_saved_its_secret_never_shown_and_it_can_be_removed(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    blank = _webhook_section((await admin_ui.get("/admin/slots/slot-005")).text)
    assert 'name="webhook_secret" type="password"' in blank
    assert "No secret yet" in blank
    assert 'name="webhook_remove"' not in blank

    # Refused per field, inline, and nothing saved; the typed secret is not echoed back.
    version = (await _slot(app, "slot-005")).version
    invalid = await _save(
        admin_ui, app, "slot-005", webhook_url="ftp://hooks.example.com/x", webhook_secret="short"
    )
    assert invalid.status_code == 422
    section = _webhook_section(invalid.text)
    assert 'value="ftp://hooks.example.com/x"' in section
    assert re.search(
        r'name="webhook_url".*?class="field-error"[^>]*>Enter an http:// or https://', section, re.S
    )
    assert re.search(
        r'name="webhook_secret".*?class="field-error"[^>]*>A signing secret of at least 16', section, re.S
    )
    assert "short" not in section
    assert (await _slot(app, "slot-005")).version == version
    too_long = await _save(admin_ui, app, "slot-005", webhook_url=URL, webhook_secret="x" * 201)
    assert too_long.status_code == 422
    assert re.search(r'name="webhook_secret".*?Too long\.', _webhook_section(too_long.text), re.S)

    saved = await _save(admin_ui, app, "slot-005", webhook_url=URL, webhook_secret=SECRET)
    assert saved.status_code == 303, saved.text
    slot = await _slot(app, "slot-005")
    assert (slot.settings["webhook_url"], slot.settings["webhook_secret"]) == (URL, SECRET)
    page = await admin_ui.get("/admin/slots/slot-005")
    assert SECRET not in page.text
    section = _webhook_section(page.text)
    assert f'value="{URL}"' in section
    assert 'name="webhook_secret" type="password" maxlength="200" value=""' in section
    assert "A secret is set." in section
    assert 'name="webhook_remove"' in section

    # An empty secret field keeps the stored secret.
    kept = await _save(admin_ui, app, "slot-005", webhook_url=URL + "/v2")
    assert kept.status_code == 303
    slot = await _slot(app, "slot-005")
    assert (slot.settings["webhook_url"], slot.settings["webhook_secret"]) == (URL + "/v2", SECRET)

    # A form without the webhook fields (a page from before they existed) leaves the webhook alone.
    older = await _save(admin_ui, app, "slot-005")
    assert older.status_code == 303
    slot = await _slot(app, "slot-005")
    assert (slot.settings["webhook_url"], slot.settings["webhook_secret"]) == (URL + "/v2", SECRET)

    removed = await _save(admin_ui, app, "slot-005", webhook_url=URL + "/v2", webhook_remove="on")
    assert removed.status_code == 303
    slot = await _slot(app, "slot-005")
    assert slot.settings.get("webhook_url") is None
    assert slot.settings.get("webhook_secret") is None
    after = _webhook_section((await admin_ui.get("/admin/slots/slot-005")).text)
    assert 'name="webhook_url" type="url" inputmode="url" maxlength="2048" value=""' in after
    assert "No secret yet" in after


async def test_russian_webhook_errors_and_labels(app: FastAPI, admin_ui: httpx.AsyncClient) -> None:
    admin_ui.cookies.set("pc_lang", "ru")
    invalid = await _save(admin_ui, app, "slot-006", webhook_url="https://user:pw@hooks.example.com/")
    assert invalid.status_code == 422
    section = _webhook_section(invalid.text)
    assert "Вебхук" in section
    assert "Введите адрес http:// или https://" in section
    assert "При указанном адресе нужен секрет подписи" in section


async def test_webhook_save_without_the_csrf_token_changes_nothing(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    version = (await _slot(app, "slot-007")).version
    refused = await admin_ui.post(
        "/admin/slots/slot-007", data=_form("forged", version, webhook_url=URL, webhook_secret=SECRET)
    )
    assert refused.status_code == 403
    assert 'data-code="csrf_failed"' in refused.text
    slot = await _slot(app, "slot-007")
    assert slot.version == version
    assert slot.settings.get("webhook_url") is None


async def test_slot_page_lists_the_last_20_webhook_deliveries_read_only_for_operators(
    app: FastAPI, admin_ui: httpx.AsyncClient, operator_ui: httpx.AsyncClient
) -> None:
    job = await add_job(
        app.state.sessionmaker,
        app.state.config.media_root,
        slot_id="slot-008",
        expires_at=utcnow() + timedelta(hours=72),
        write_files=False,
    )
    start = utcnow() - timedelta(minutes=30)
    async with app.state.sessionmaker() as session:
        for n in range(22):
            failed = n % 2 == 0
            session.add(
                WebhookDelivery(
                    job_id=job.id,
                    slot_id="slot-008",
                    url=URL,
                    event="job.done",
                    attempt=n + 1,
                    status_code=None if failed else 200,
                    error="ConnectTimeout" if failed else None,
                    duration_ms=1000 + n,
                    created_at=start + timedelta(minutes=n),
                )
            )
        await session.commit()

    page = await admin_ui.get("/admin/slots/slot-008")
    assert page.status_code == 200
    rows = re.findall(r'<tr data-delivery="\d+">(.*?)</tr>', page.text, re.S)
    assert len(rows) == 20
    # Newest first: attempt 22 (a 200 in 1021 ms) down to attempt 3.
    assert re.search(r"<td>22</td>.*badge on\">200<.*1021 ms", rows[0], re.S)
    assert re.search(r"<td>21</td>.*<code>ConnectTimeout</code>.*1020 ms", rows[1], re.S)
    assert "<td>3</td>" in rows[-1]
    assert "The last 20 attempts" in page.text

    operator = await operator_ui.get("/admin/slots/slot-008")
    assert operator.status_code == 200
    assert len(re.findall(r'<tr data-delivery="\d+">', operator.text)) == 20
    assert "<fieldset disabled>" in operator.text  # the webhook fields sit inside the disabled form
    assert 'type="submit" class="primary"' not in operator.text

    empty = await admin_ui.get("/admin/slots/slot-009")
    assert "No deliveries yet." in empty.text
    assert "data-delivery=" not in empty.text
