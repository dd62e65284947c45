"""The booth's multipart body: parts counted whatever their names, the password checked before the photo is
read, slow bodies cut off, and the photo's bytes written from the chunks exactly as sent."""

import asyncio
import hashlib
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.config import AppConfig
from photochanger.core.multipart import MAX_PARTS, read_upload
from photochanger.core.uploads import InvalidRequest
from tests.ingest.conftest import INGEST_PASSWORD, booth_fields, jobs
from tests.ingest.test_router import assert_nothing_left, assert_problem
from tests.support import images

pytestmark = pytest.mark.usefixtures("ingest_password")

BOUNDARY = "multipartBoundary42"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"upload_idle_timeout_seconds": 0.5, "upload_total_timeout_seconds": 1.5}


def field_part(name: str, value: str) -> bytes:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()


def file_head(name: str = "fileToUpload") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="IMG.JPG"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()


CLOSE = f"\r\n--{BOUNDARY}--\r\n".encode()


def booth_head(password: str = INGEST_PASSWORD) -> bytes:
    return b"".join(field_part(k, v) for k, v in booth_fields(password).items())


class Recorded:
    """An async body that records which of its chunks the server pulled."""

    def __init__(self, chunks: list[bytes], *, pause: float = 0.0, then_sleep: float = 0.0) -> None:
        self.chunks = chunks
        self.pulled = 0
        self.pause = pause
        self.then_sleep = then_sleep

    async def __call__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.pulled += 1
            if self.pause:
                await asyncio.sleep(self.pause)
            yield chunk
        if self.then_sleep:
            await asyncio.sleep(self.then_sleep)


async def post(client: httpx.AsyncClient, body: Any) -> httpx.Response:
    return await client.post("/api/ingest/slot-001", content=body, headers={"Content-Type": CONTENT_TYPE})


async def test_parts_are_counted_whatever_their_names(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # Under the limit once the booth's own fields are counted: accepted.
    fine = booth_head() + field_part("note", "x") * (MAX_PARTS - 11) + file_head() + images.jpeg() + CLOSE
    assert (await post(client, fine)).status_code == 200
    # One name repeated past the limit: refused, though it is a single field.
    repeated = booth_head() + field_part("note", "x") * MAX_PARTS + file_head() + images.jpeg() + CLOSE
    problem = assert_problem(await post(client, repeated), 400, "invalid_request")
    assert "parts" in problem["detail"]
    assert len(await jobs(sessionmaker)) == 1


async def test_388000_parts_under_one_name_are_refused_after_the_first_chunks(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    flood = booth_head() + field_part("id", "1") * 388_000 + file_head() + images.jpeg() + CLOSE
    body = Recorded([flood[i : i + 65536] for i in range(0, len(flood), 65536)])
    started = time.monotonic()
    response = await post(client, body())
    elapsed = time.monotonic() - started
    assert_problem(response, 400, "invalid_request")
    assert body.pulled <= 2, f"{body.pulled} of {len(body.chunks)} chunks parsed"
    assert elapsed < 1.0, f"{elapsed:.2f}s"
    await assert_nothing_left(config, sessionmaker)


async def test_part_headers_are_bounded(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    huge = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="x"\r\nX-Pad: {"a" * 200_000}\r\n\r\nv\r\n'
    ).encode()
    body = booth_head() + huge + file_head() + images.jpeg() + CLOSE
    # python-multipart caps a header line itself ("Maximum header size exceeded").
    assert_problem(await post(client, body), 400, "invalid_request")
    await assert_nothing_left(config, sessionmaker)


async def test_a_wrong_password_sent_before_the_photo_is_refused_before_the_photo_is_read(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    photo = images.noisy_jpeg(0.5)
    body = Recorded(
        [
            booth_head("wrong password"),
            file_head(),
            *(photo[i : i + 4096] for i in range(0, len(photo), 4096)),
            CLOSE,
        ]
    )
    assert_problem(await post(client, body()), 401, "invalid_password")
    assert body.pulled == 2, "only the fields and the file part's headers were read"
    await assert_nothing_left(config, sessionmaker)


@pytest.mark.parametrize(("password", "status"), [(INGEST_PASSWORD, 200), ("wrong", 401)])
async def test_a_password_sent_after_the_photo_is_checked_after_it(
    client: httpx.AsyncClient, password: str, status: int
) -> None:
    fields = booth_fields(None)
    body = (
        file_head()
        + images.jpeg()
        + b"\r\n"
        + b"".join(field_part(k, v) for k, v in fields.items())
        + field_part("password", password)
        + f"--{BOUNDARY}--\r\n".encode()
    )
    assert (await post(client, body)).status_code == status


async def test_a_body_that_stops_arriving_is_refused_408_after_the_idle_timeout(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = Recorded([booth_head(), file_head(), images.jpeg()[:100]], then_sleep=30)
    started = time.monotonic()
    problem = assert_problem(await post(client, body()), 408, "upload_timeout")
    assert 0.4 < time.monotonic() - started < 3
    assert "No data arrived" in problem["detail"]
    await assert_nothing_left(config, sessionmaker)


async def test_a_trickling_body_is_refused_408_after_the_total_timeout(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    photo = images.jpeg()
    # A byte every 0.2 s never trips the idle timeout (0.5 s); the total (1.5 s) ends it.
    body = Recorded([booth_head(), file_head(), *(photo[i : i + 1] for i in range(len(photo)))], pause=0.2)
    started = time.monotonic()
    problem = assert_problem(await post(client, body()), 408, "upload_timeout")
    assert 1.4 < time.monotonic() - started < 4
    assert "within" in problem["detail"]
    await assert_nothing_left(config, sessionmaker)


def _boundary_like_photo() -> bytes:
    """Bytes full of near-boundaries (CRLF, dashes, the boundary's prefix): they exercise the parser's
    look-behind, where part data is handed over from its own buffers rather than the network chunk."""
    rng = random.Random(11)
    pieces = [b"\r\n--", b"\r\n--" + BOUNDARY.encode()[:-1], b"\r", b"-", b"\r\n", rng.randbytes(40)]
    return images.jpeg() + b"".join(rng.choice(pieces) for _ in range(3000))


@pytest.mark.parametrize("size", [1, 7, 100, 65536, "random"])
async def test_the_photo_is_written_byte_for_byte_however_it_is_chunked(
    tmp_path: Path, size: int | str
) -> None:
    photo = _boundary_like_photo()
    body = booth_head() + file_head() + photo + CLOSE
    rng = random.Random(3)
    chunks: list[bytes] = []
    at = 0
    while at < len(body):
        n = rng.randint(1, 3000) if size == "random" else int(size)
        chunks.append(body[at : at + n])
        at += n

    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    dest = tmp_path / "upload"
    parsed = await read_upload(
        stream(), content_type=CONTENT_TYPE, dest=dest, max_bytes=10 * 1024 * 1024, file_field="fileToUpload"
    )
    assert dest.read_bytes() == photo
    assert (parsed.size, parsed.sha256) == (len(photo), hashlib.sha256(photo).hexdigest())
    assert parsed.fields["password"] == INGEST_PASSWORD


async def test_a_file_under_another_name_is_refused_and_its_temp_file_removed(tmp_path: Path) -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield booth_head() + file_head("other") + images.jpeg() + CLOSE

    dest = tmp_path / "upload"
    with pytest.raises(InvalidRequest):
        await read_upload(
            stream(), content_type=CONTENT_TYPE, dest=dest, max_bytes=1024 * 1024, file_field="fileToUpload"
        )
    assert not dest.exists()
