"""Body caps before parsing (issue 15, item 5): small caps on form and JSON routes, multipart only where a file
is expected, upload routes under their own caps."""

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.ingest.conftest import ingest_password, sessionmaker, upload
from tests.support import images

__all__ = ["ingest_password", "sessionmaker"]

MIB = 1024 * 1024


class Body:
    """A request body that counts what the server pulled from it."""

    def __init__(self, total: int, chunk: int = 64 * 1024, prefix: bytes = b"username=a&password=") -> None:
        self.total, self.chunk, self.prefix = total, chunk, prefix
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.prefix
        self.sent += len(self.prefix)
        while self.sent < self.total:
            piece = b"x" * min(self.chunk, self.total - self.sent)
            self.sent += len(piece)
            yield piece


def _assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


OPERATOR_FORMS = ["/admin/bulk/slots", "/admin/results/x/delete", "/admin/settings/ingest-password/generate"]


@pytest.mark.parametrize(
    "path", ["/admin/login", "/admin/logout", "/admin/settings", "/admin/users", *OPERATOR_FORMS]
)
async def test_a_declared_oversized_admin_form_is_413_before_a_byte_is_read(
    client: httpx.AsyncClient, path: str
) -> None:
    body = Body(300 * MIB)
    response = await client.post(path, content=body, headers={**FORM, "Content-Length": str(300 * MIB)})
    _assert_problem(response, 413, "payload_too_large")
    assert body.sent <= len(body.prefix)  # at most what the transport pre-fetches


async def test_a_chunked_oversized_admin_form_is_cut_off_at_the_cap(client: httpx.AsyncClient) -> None:
    body = Body(300 * MIB)
    response = await client.post("/admin/login", content=body, headers=FORM)  # no Content-Length
    _assert_problem(response, 413, "payload_too_large")
    assert body.sent <= 64 * 1024 + body.chunk + len(body.prefix)


@pytest.mark.parametrize(
    "path", ["/admin/login", "/admin/logout", "/admin/account/password", *OPERATOR_FORMS]
)
async def test_multipart_is_refused_where_no_file_is_expected(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(
        path,
        data={"username": "a", "password": "b"},
        files={"big": ("big.bin", b"\0" * 4096, "application/octet-stream")},
    )
    _assert_problem(response, 415, "unsupported_media_type")


async def test_json_routes_are_capped_too(client: httpx.AsyncClient) -> None:
    huge = b'{"username": "a", "password": "' + b"x" * (2 * MIB) + b'"}'
    response = await client.post(
        "/api/auth/login", content=huge, headers={"Content-Type": "application/json"}
    )
    _assert_problem(response, 413, "payload_too_large")
    multipart = await client.post("/api/auth/login", files={"username": (None, "a"), "password": (None, "b")})
    _assert_problem(multipart, 415, "unsupported_media_type")


async def test_a_small_form_still_reaches_its_route(client: httpx.AsyncClient) -> None:
    # No CSRF cookie: the route itself answers, so the body got through intact.
    response = await client.post("/admin/login", data={"username": "a", "password": "b", "next": "/admin"})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]


@pytest.mark.usefixtures("ingest_password")
async def test_upload_routes_keep_their_own_larger_caps(client: httpx.AsyncClient) -> None:
    photo = images.noisy_jpeg(1.5)
    assert len(photo) > 1024 * 1024  # over every non-upload cap
    assert (await upload(client, photo)).status_code == 200


async def test_the_slot_editor_trial_run_takes_a_photo_over_the_form_cap(client: httpx.AsyncClient) -> None:
    photo = images.noisy_jpeg(1.5)
    assert len(photo) > 1024 * 1024
    response = await client.post(
        "/admin/slots/slot-001/trial", files={"file": ("shot.jpg", photo, "image/jpeg")}
    )
    # Past the body cap (neither 413 nor 415): the route itself sends the signed-out browser to sign in.
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/admin/login")
