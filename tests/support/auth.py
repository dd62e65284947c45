"""Test helpers for authenticated requests: create users through the service, log in, Bearer headers."""

from typing import Any

import httpx
from fastapi import FastAPI

from photochanger.auth.permissions import Role
from photochanger.models import User
from photochanger.users import service as auth_service

DEFAULT_PASSWORD = "correct horse battery staple"


async def create_user(
    app: FastAPI, username: str, *, password: str = DEFAULT_PASSWORD, role: Role = Role.admin
) -> User:
    """Create and commit a user directly through the service (the app's lifespan must be running)."""
    async with app.state.sessionmaker() as session:
        user = await auth_service.create_user(
            session, username=username, password=password, role=role, actor="test"
        )
        await session.commit()
    return user


async def login(client: httpx.AsyncClient, username: str, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
    """POST /api/auth/login and return the token pair. The cookies the response set are dropped, so later
    requests on `client` carry only what the test passes explicitly."""
    response = await client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    body: dict[str, Any] = response.json()
    return body


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


async def auth_headers(
    app: FastAPI, client: httpx.AsyncClient, *, role: Role, username: str | None = None
) -> dict[str, str]:
    """Create a user with `role` (named `test-<role>` unless given), log in, return Bearer headers."""
    name = username or f"test-{role.value}"
    await create_user(app, name, role=role)
    tokens = await login(client, name)
    return bearer(str(tokens["access_token"]))
