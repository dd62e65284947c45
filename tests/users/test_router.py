"""Login, refresh, logout, me, change-password, cookies with CSRF, and the user-management endpoints."""

import logging
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from photochanger.auth.permissions import Role
from tests.support.auth import DEFAULT_PASSWORD, bearer, create_user, login


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    out: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        out[header.split("=", 1)[0]] = header
    return out


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/login"])
async def test_login_returns_a_token_pair_on_both_paths(
    app: FastAPI, client: httpx.AsyncClient, path: str
) -> None:
    await create_user(app, "serg", role=Role.admin)
    response = await client.post(path, json={"username": "serg", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert response.headers["cache-control"] == "no-store"
    me = await client.get("/api/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "serg"
    assert "settings:write" in me.json()["permissions"]


async def test_login_username_is_case_insensitive(app: FastAPI, client: httpx.AsyncClient) -> None:
    await create_user(app, "igor", role=Role.operator)
    tokens = await login(client, "  IGOR ")
    me = await client.get("/api/auth/me", headers=bearer(tokens["access_token"]))
    assert me.json()["role"] == "operator"


async def test_unknown_user_and_wrong_password_get_the_same_401(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_user(app, "serg")
    wrong = await client.post("/api/login", json={"username": "serg", "password": "not the password"})
    unknown = await client.post("/api/login", json={"username": "nobody", "password": "not the password"})
    assert _problem(wrong, 401, "invalid_credentials") == {
        **_problem(unknown, 401, "invalid_credentials"),
        "instance": "/api/login",
    }
    assert "set-cookie" not in wrong.headers


async def test_disabled_user_cannot_log_in(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    user = await create_user(app, "igor", role=Role.operator)
    response = await client.put(
        f"/api/users/{user.id}/active", headers=admin_headers, json={"is_active": False}
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    denied = await client.post("/api/login", json={"username": "igor", "password": DEFAULT_PASSWORD})
    _problem(denied, 401, "invalid_credentials")


async def test_login_never_logs_the_password(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    await create_user(app, "serg")
    caplog.set_level(logging.DEBUG)
    secret = "hunter2-never-log-me"
    await client.post("/api/login", json={"username": "serg", "password": secret})
    await client.post("/api/login", json={"username": "serg", "password": DEFAULT_PASSWORD})
    attempts = [r for r in caplog.records if r.getMessage() == "login attempt"]
    assert [getattr(r, "outcome", None) for r in attempts] == ["failed", "ok"]
    assert all(getattr(r, "username", None) == "serg" for r in attempts)
    assert secret not in caplog.text
    assert DEFAULT_PASSWORD not in caplog.text


async def test_login_body_is_validated(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/login", json={"username": "serg"})
    body = _problem(response, 422, "validation_error")
    assert [e["field"] for e in body["errors"]] == ["password"]


async def test_refresh_rotates_and_the_old_token_is_then_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_user(app, "serg")
    first = await login(client, "serg")
    rotated = await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    client.cookies.clear()
    reuse = await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    _problem(reuse, 401, "invalid_token")
    # Reuse revoked the whole family: the legitimately rotated pair is dead too.
    again = await client.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    _problem(again, 401, "invalid_token")
    me = await client.get("/api/auth/me", headers=bearer(second["access_token"]))
    _problem(me, 401, "invalid_token")


async def test_access_and_refresh_tokens_are_not_interchangeable(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_user(app, "serg")
    tokens = await login(client, "serg")
    as_access = await client.get("/api/auth/me", headers=bearer(tokens["refresh_token"]))
    _problem(as_access, 401, "invalid_token")
    as_refresh = await client.post("/api/auth/refresh", json={"refresh_token": tokens["access_token"]})
    _problem(as_refresh, 401, "invalid_token")


async def test_logout_kills_the_refresh_token_and_its_access_token(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_user(app, "serg")
    tokens = await login(client, "serg")
    other = await login(client, "serg")
    response = await client.post("/api/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    _problem(
        await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
        401,
        "invalid_token",
    )
    _problem(await client.get("/api/auth/me", headers=bearer(tokens["access_token"])), 401, "invalid_token")
    # Another session of the same user is untouched.
    assert (await client.get("/api/auth/me", headers=bearer(other["access_token"]))).status_code == 200
    # Logging out twice is harmless.
    assert (
        await client.post("/api/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 204


async def test_me_without_credentials_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/auth/me")
    _problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")
    _problem(
        await client.get("/api/auth/me", headers={"Authorization": "Basic abc"}), 401, "not_authenticated"
    )


async def test_change_password_revokes_other_sessions_and_returns_a_new_pair(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_user(app, "serg")
    here = await login(client, "serg")
    elsewhere = await login(client, "serg")
    wrong = await client.post(
        "/api/auth/change-password",
        headers=bearer(here["access_token"]),
        json={"current_password": "not it at all", "new_password": "a brand new passphrase"},
    )
    _problem(wrong, 403, "wrong_password")
    weak = await client.post(
        "/api/auth/change-password",
        headers=bearer(here["access_token"]),
        json={"current_password": DEFAULT_PASSWORD, "new_password": "short"},
    )
    _problem(weak, 422, "validation_error")
    changed = await client.post(
        "/api/auth/change-password",
        headers=bearer(here["access_token"]),
        json={"current_password": DEFAULT_PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert changed.status_code == 200, changed.text
    client.cookies.clear()
    fresh = changed.json()
    for old in (here, elsewhere):
        _problem(await client.get("/api/auth/me", headers=bearer(old["access_token"])), 401, "invalid_token")
        _problem(
            await client.post("/api/auth/refresh", json={"refresh_token": old["refresh_token"]}),
            401,
            "invalid_token",
        )
    assert (await client.get("/api/auth/me", headers=bearer(fresh["access_token"]))).status_code == 200
    _problem(
        await client.post("/api/login", json={"username": "serg", "password": DEFAULT_PASSWORD}),
        401,
        "invalid_credentials",
    )
    await login(client, "serg", "a brand new passphrase")


# --- cookies and CSRF ---------------------------------------------------------------------------------


async def test_login_sets_httponly_samesite_strict_cookies_without_secure_on_http(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_user(app, "serg")
    response = await client.post("/api/login", json={"username": "serg", "password": DEFAULT_PASSWORD})
    cookies = _set_cookies(response)
    assert set(cookies) == {"pc_access", "pc_refresh", "pc_csrf"}
    for name, header in cookies.items():
        lowered = header.lower()
        assert "samesite=strict" in lowered
        assert "secure" not in lowered
        assert ("httponly" in lowered) == (name != "pc_csrf")
    assert "path=/api/auth" in cookies["pc_refresh"].lower()


@pytest.mark.parametrize("config_overrides", [{"public_base_url": "https://booth.example"}])
async def test_cookies_are_secure_behind_https(app: FastAPI, client: httpx.AsyncClient) -> None:
    await create_user(app, "serg")
    response = await client.post("/api/login", json={"username": "serg", "password": DEFAULT_PASSWORD})
    for header in _set_cookies(response).values():
        parsed = SimpleCookie()
        parsed.load(header)
        morsel = next(iter(parsed.values()))
        assert morsel["secure"] is True
        assert morsel["samesite"].lower() == "strict"


async def test_cookie_requests_need_the_csrf_header_to_change_state(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_user(app, "serg")
    response = await client.post("/api/login", json={"username": "serg", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    csrf = client.cookies["pc_csrf"]
    # Reads with the cookie alone are fine.
    assert (await client.get("/api/settings")).status_code == 200
    change = {"result_ttl_hours": 24}
    _problem(await client.put("/api/settings", json=change), 403, "csrf_failed")
    _problem(
        await client.put("/api/settings", json=change, headers={"X-CSRF-Token": "guess"}), 403, "csrf_failed"
    )
    ok = await client.put("/api/settings", json=change, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200, ok.text
    assert ok.json()["result_ttl_hours"]["value"] == 24


async def test_bearer_requests_need_no_csrf_token(app: FastAPI, client: httpx.AsyncClient) -> None:
    await create_user(app, "serg")
    tokens = await login(client, "serg")
    response = await client.put(
        "/api/settings", json={"result_ttl_hours": 12}, headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 200


async def test_cookie_refresh_needs_csrf_and_rotates_the_cookies(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_user(app, "serg")
    await client.post("/api/login", json={"username": "serg", "password": DEFAULT_PASSWORD})
    old_refresh = client.cookies["pc_refresh"]
    _problem(await client.post("/api/auth/refresh"), 403, "csrf_failed")
    response = await client.post("/api/auth/refresh", headers={"X-CSRF-Token": client.cookies["pc_csrf"]})
    assert response.status_code == 200, response.text
    assert client.cookies["pc_refresh"] != old_refresh
    assert (await client.get("/api/auth/me")).status_code == 200


async def test_cookie_logout_needs_csrf_and_clears_the_cookies(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_user(app, "serg")
    await client.post("/api/login", json={"username": "serg", "password": DEFAULT_PASSWORD})
    refresh = client.cookies["pc_refresh"]
    response = await client.post("/api/auth/logout", headers={"X-CSRF-Token": client.cookies["pc_csrf"]})
    assert response.status_code == 204
    assert "pc_access" not in client.cookies
    client.cookies.clear()
    _problem(await client.post("/api/auth/refresh", json={"refresh_token": refresh}), 401, "invalid_token")


# --- users --------------------------------------------------------------------------------------------


async def test_create_list_and_duplicate_users(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    created = await client.post(
        "/api/users", headers=admin_headers, json={"username": "Igor", "password": "long enough password"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["username"] == "igor"
    assert created.json()["role"] == "operator"
    assert "password" not in created.text
    duplicate = await client.post(
        "/api/users", headers=admin_headers, json={"username": "igor", "password": "long enough password"}
    )
    _problem(duplicate, 409, "username_taken")
    listed = await client.get("/api/users", headers=admin_headers)
    assert {u["username"] for u in listed.json()} == {"admin", "test-admin", "igor"}
    assert "hash" not in listed.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "x", "password": "long enough password"}, "username"),
        ({"username": "bad name", "password": "long enough password"}, "username"),
        ({"username": "okname", "password": "short"}, "password"),
        ({"username": "okname", "password": "long enough password", "role": "root"}, "role"),
    ],
)
async def test_create_user_validation_is_422_per_field(
    client: httpx.AsyncClient, admin_headers: dict[str, str], body: dict[str, str], field: str
) -> None:
    response = await client.post("/api/users", headers=admin_headers, json=body)
    problem = _problem(response, 422, "validation_error")
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_deleting_yourself_is_409(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    me = (await client.get("/api/auth/me", headers=admin_headers)).json()
    _problem(await client.delete(f"/api/users/{me['id']}", headers=admin_headers), 409, "cannot_modify_self")


async def test_demoting_the_last_admin_is_409(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    users = {u["username"]: u for u in (await client.get("/api/users", headers=admin_headers)).json()}
    assert (
        await client.delete(f"/api/users/{users['admin']['id']}", headers=admin_headers)
    ).status_code == 204
    me = users["test-admin"]
    _problem(
        await client.put(f"/api/users/{me['id']}/role", headers=admin_headers, json={"role": "operator"}),
        409,
        "last_admin",
    )
    _problem(
        await client.put(f"/api/users/{me['id']}/active", headers=admin_headers, json={"is_active": False}),
        409,
        "cannot_modify_self",
    )


async def test_deleting_a_user_kills_their_tokens(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    victim = await create_user(app, "igor", role=Role.operator)
    tokens = await login(client, "igor")
    assert (await client.delete(f"/api/users/{victim.id}", headers=admin_headers)).status_code == 204
    _problem(await client.get("/api/auth/me", headers=bearer(tokens["access_token"])), 401, "invalid_token")
    _problem(
        await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
        401,
        "invalid_token",
    )
    _problem(await client.delete(f"/api/users/{victim.id}", headers=admin_headers), 404, "user_not_found")


async def test_role_change_takes_effect_at_once(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    user = await create_user(app, "igor", role=Role.operator)
    old = await login(client, "igor")
    promoted = await client.put(f"/api/users/{user.id}/role", headers=admin_headers, json={"role": "admin"})
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "admin"
    _problem(await client.get("/api/auth/me", headers=bearer(old["access_token"])), 401, "invalid_token")
    _problem(
        await client.post("/api/auth/refresh", json={"refresh_token": old["refresh_token"]}),
        401,
        "invalid_token",
    )
    new = await login(client, "igor")
    me = await client.get("/api/auth/me", headers=bearer(new["access_token"]))
    assert "users:write" in me.json()["permissions"]


async def test_admin_stats_counts_users_sessions_and_jobs(
    client: httpx.AsyncClient, admin_headers: dict[str, str], operator_headers: dict[str, str]
) -> None:
    response = await client.get("/api/admin/stats", headers=operator_headers)
    assert response.status_code == 200
    body = response.json()
    assert body["users"] == {"total": 3, "active": 3, "admins": 2}
    assert body["active_sessions"] == 2
    assert body["jobs"] == {"pending": 0, "done": 0, "timeout": 0, "failed": 0, "total": 0}
