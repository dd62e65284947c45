"""Admin UI fixtures: a browser-like httpx client signed in through the login form."""

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from photochanger.auth.permissions import Role
from tests.support.auth import DEFAULT_PASSWORD, create_user

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = _CSRF.search(html)
    assert match is not None, "no CSRF field on the page"
    return match.group(1)


async def form_login(
    client: httpx.AsyncClient, username: str, password: str = DEFAULT_PASSWORD
) -> httpx.Response:
    page = await client.get("/admin/login")
    assert page.status_code == 200
    return await client.post(
        "/admin/login",
        data={"csrf": csrf_of(page.text), "username": username, "password": password, "next": "/admin"},
    )


async def _signed_in(app: FastAPI, username: str, role: Role) -> AsyncIterator[httpx.AsyncClient]:
    await create_user(app, username, role=role)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await form_login(http, username)
        assert response.status_code == 303, response.text
        yield http


@pytest.fixture
async def admin_ui(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding an admin's session cookies, as a browser would after the login form."""
    async for http in _signed_in(app, "ui-admin", Role.admin):
        yield http


@pytest.fixture
async def operator_ui(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _signed_in(app, "ui-operator", Role.operator):
        yield http
