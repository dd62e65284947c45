"""The permission matrix: every write endpoint (and the admin reads) x {no token, operator, admin}."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from photochanger.auth.permissions import ROLE_PERMISSIONS, SETTINGS_WRITE, SLOTS_TEST, Role
from tests.support.auth import DEFAULT_PASSWORD, create_user, login

# (method, path template, JSON body, status for an admin); `{victim}` is an operator the test creates.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, int]] = [
    ("PUT", "/api/settings", {"result_ttl_hours": 24}, 200),
    ("PUT", "/api/settings", {"ingest_password": "a new booth password"}, 200),
    ("POST", "/api/users", {"username": "newbie", "password": "long enough password"}, 201),
    ("DELETE", "/api/users/{victim}", None, 204),
    ("PUT", "/api/users/{victim}/role", {"role": "admin"}, 200),
    ("PUT", "/api/users/{victim}/active", {"is_active": False}, 200),
    ("GET", "/api/settings", None, 200),
    ("GET", "/api/users", None, 200),
    ("GET", "/api/audit", None, 200),
]


@pytest.mark.parametrize(("method", "path", "body", "admin_status"), ENDPOINTS)
@pytest.mark.parametrize("who", ["nobody", "operator", "admin"])
async def test_permission_matrix(
    app: FastAPI,
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    admin_status: int,
    who: str,
) -> None:
    victim = await create_user(app, "victim", role=Role.operator)
    headers: dict[str, str] = {}
    if who != "nobody":
        await create_user(app, f"the-{who}", role=Role(who))
        tokens = await login(client, f"the-{who}", DEFAULT_PASSWORD)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    response = await client.request(method, path.format(victim=victim.id), json=body, headers=headers)
    expected = {"nobody": 401, "operator": 403, "admin": admin_status}[who]
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.json()["code"] == {401: "not_authenticated", 403: "forbidden"}[expected]


async def test_operator_may_read_stats(client: httpx.AsyncClient, operator_headers: dict[str, str]) -> None:
    assert (await client.get("/api/admin/stats", headers=operator_headers)).status_code == 200
    assert (await client.get("/api/admin/stats")).status_code == 401


def test_role_permissions_match_the_issue() -> None:
    assert ROLE_PERMISSIONS[Role.operator] == {
        "slots:read",
        SLOTS_TEST,
        "results:read",
        "stats:read",
        "media:read",
    }
    admin = ROLE_PERMISSIONS[Role.admin]
    assert {
        "slots:write",
        SETTINGS_WRITE,
        "users:write",
        "users:read",
        "settings:read",
        "media:write",
    } <= admin
    assert ROLE_PERMISSIONS[Role.operator] < admin
