"""The account page: changing one's own password keeps this browser signed in, ends the other sessions,
and explains every refusal."""

import re

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.models import AuditLog
from tests.admin.conftest import csrf_of
from tests.support.auth import DEFAULT_PASSWORD

NEW_PASSWORD = "a brand new passphrase 2"


async def _change(
    ui: httpx.AsyncClient, current: str, new: str, repeat: str | None = None, *, csrf: str | None = None
) -> httpx.Response:
    page = await ui.get("/admin/account")
    assert page.status_code == 200
    return await ui.post(
        "/admin/account/password",
        data={
            "csrf": csrf if csrf is not None else csrf_of(page.text),
            "current_password": current,
            "new_password": new,
            "repeat_password": new if repeat is None else repeat,
        },
    )


async def _api_login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": username, "password": password})


async def test_every_user_finds_the_account_page_in_the_navigation(operator_ui: httpx.AsyncClient) -> None:
    page = await operator_ui.get("/admin")
    assert 'href="/admin/account"' in page.text
    account = await operator_ui.get("/admin/account")
    assert account.status_code == 200
    assert '<a href="/admin/account" aria-current="page">Account</a>' in account.text
    assert "ui-operator" in account.text
    assert 'action="/admin/account/password"' in account.text


async def test_password_change_keeps_this_session_and_ends_the_others(
    app: FastAPI, client: httpx.AsyncClient, admin_ui: httpx.AsyncClient
) -> None:
    other = await _api_login(client, "ui-admin", DEFAULT_PASSWORD)
    assert other.status_code == 200
    other_access = other.json()["access_token"]
    old_access = admin_ui.cookies["pc_access"]

    changed = await _change(admin_ui, DEFAULT_PASSWORD, NEW_PASSWORD)
    assert changed.status_code == 303, changed.text
    assert changed.headers["location"] == "/admin/account?done=password"
    cookies = changed.headers.get_list("set-cookie")
    for name in ("pc_access=", "pc_refresh=", "pc_csrf="):
        assert any(c.startswith(name) for c in cookies), name
    assert admin_ui.cookies["pc_access"] != old_access

    # This browser is still signed in, with a working CSRF token for the next form.
    page = await admin_ui.get(changed.headers["location"])
    assert page.status_code == 200
    assert "Password changed. Your other sessions were signed out." in page.text
    assert csrf_of(page.text) == admin_ui.cookies["pc_csrf"]
    assert (await admin_ui.get("/api/auth/me")).json()["username"] == "ui-admin"
    assert NEW_PASSWORD not in page.text

    # Every other session ended: the old cookie's token and an API session alike.
    for token in (old_access, other_access):
        stale = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert stale.status_code == 401
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": other.json()["refresh_token"]})
    assert refresh.status_code == 401

    refused = await _api_login(client, "ui-admin", DEFAULT_PASSWORD)
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_credentials"
    assert (await _api_login(client, "ui-admin", NEW_PASSWORD)).status_code == 200
    async with app.state.sessionmaker() as session:
        actions = (await session.execute(select(AuditLog.action))).scalars().all()
    assert "user.password_change" in actions


async def test_wrong_current_password_is_refused_with_a_clear_message(
    client: httpx.AsyncClient, admin_ui: httpx.AsyncClient
) -> None:
    response = await _change(admin_ui, "not my password at all", NEW_PASSWORD)
    assert response.status_code == 403
    assert re.search(
        r'name="current_password"[^>]*aria-invalid="true">\s*<span class="field-error" role="alert">'
        r"The current password is wrong\.",
        response.text,
    )
    assert NEW_PASSWORD not in response.text
    assert (await admin_ui.get("/api/auth/me")).status_code == 200
    assert (await _api_login(client, "ui-admin", DEFAULT_PASSWORD)).status_code == 200
    assert (await _api_login(client, "ui-admin", NEW_PASSWORD)).status_code == 401


async def test_too_short_and_mismatched_passwords_are_refused_inline(
    client: httpx.AsyncClient, admin_ui: httpx.AsyncClient
) -> None:
    short = await _change(admin_ui, DEFAULT_PASSWORD, "short")
    assert short.status_code == 422
    assert re.search(
        r'name="new_password"[^>]*aria-invalid="true">\s*<span class="field-error" role="alert">'
        r"The new password must be 12 to 1024 characters long\.",
        short.text,
    )
    mismatch = await _change(admin_ui, DEFAULT_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!")
    assert mismatch.status_code == 422
    assert re.search(
        r'name="repeat_password"[^>]*aria-invalid="true">\s*<span class="field-error" role="alert">'
        r"The two new passwords differ\.",
        mismatch.text,
    )
    assert "The password was not changed." in mismatch.text
    admin_ui.cookies.set("pc_lang", "ru")
    russian = await _change(admin_ui, "wrong current password", NEW_PASSWORD, "different password 1")
    assert russian.status_code == 422
    assert "Новые пароли не совпадают." in russian.text
    assert (await _api_login(client, "ui-admin", DEFAULT_PASSWORD)).status_code == 200


async def test_password_change_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, admin_ui: httpx.AsyncClient
) -> None:
    forged = await _change(admin_ui, DEFAULT_PASSWORD, NEW_PASSWORD, csrf="forged")
    assert forged.status_code == 403
    assert 'data-code="csrf_failed"' in forged.text
    missing = await admin_ui.post(
        "/admin/account/password",
        data={
            "current_password": DEFAULT_PASSWORD,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
    )
    assert missing.status_code == 403
    assert (await _api_login(client, "ui-admin", DEFAULT_PASSWORD)).status_code == 200
    assert (await _api_login(client, "ui-admin", NEW_PASSWORD)).status_code == 401


async def test_guessing_the_current_password_is_throttled_like_a_login(admin_ui: httpx.AsyncClient) -> None:
    for _ in range(10):
        assert (await _change(admin_ui, "not my password", NEW_PASSWORD)).status_code == 403
    throttled = await _change(admin_ui, DEFAULT_PASSWORD, NEW_PASSWORD)
    assert throttled.status_code == 429
    assert 880 <= int(throttled.headers["retry-after"]) <= 900
    assert "Too many failed attempts. Try again in 15 min." in throttled.text
