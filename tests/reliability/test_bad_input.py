"""A corpus of hostile and broken uploads: each gets its documented answer, nothing stays on disk or pending."""

import io
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from photochanger.config import AppConfig
from tests.ingest.conftest import booth_fields
from tests.reliability.conftest import INGEST_PASSWORD, assert_clean_state
from tests.support import images

pytestmark = pytest.mark.reliability

URL = "/api/ingest/slot-001"
BOUNDARY = "reliabilityBoundary7MA4YWxkTrZu0gW"


def _image(fmt: str, **save: Any) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (30, 90, 200)).save(buffer, fmt, **save)
    return buffer.getvalue()


def _huge_png() -> bytes:
    """100 megapixels that compress to a few kilobytes (a decompression bomb for a naive decoder)."""
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _jar_polyglot() -> bytes:
    """A valid JPEG with a ZIP archive appended (readable as both)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("payload.html", "<script>alert(1)</script>")
    return images.jpeg(64, 48) + archive.getvalue()


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'

# (case id, file bytes, declared type, file name, status, code): the answers issue 3 documents.
CORPUS: list[tuple[str, bytes, str, str, int, str]] = [
    ("truncated-jpeg", images.noisy_jpeg(0.2)[:30_000], "image/jpeg", "IMG_0001.JPG", 422, "invalid_image"),
    ("jpeg-magic-then-html", b"\xff\xd8\xff\xe0" + b"<html><script>alert(1)</script></html>" * 20,
     "image/jpeg", "IMG.JPG", 422, "invalid_image"),
    ("pdf-then-jpeg", b"%PDF-1.4\n" + images.jpeg(), "image/jpeg", "IMG.JPG", 415, "unsupported_media_type"),
    ("svg", SVG, "image/svg+xml", "photo.svg", 415, "unsupported_media_type"),
    ("svg-declared-jpeg", SVG, "image/jpeg", "IMG.JPG", 415, "unsupported_media_type"),
    ("gif", images.gif(), "image/gif", "photo.gif", 415, "unsupported_media_type"),
    ("tiff", _image("TIFF"), "image/tiff", "photo.tif", 415, "unsupported_media_type"),
    ("bmp-declared-jpeg", _image("BMP"), "image/jpeg", "IMG.JPG", 415, "unsupported_media_type"),
    ("100-megapixel-png", _huge_png(), "image/png", "bomb.png", 422, "invalid_image"),
    ("zero-bytes", b"", "image/jpeg", "IMG_0000.JPG", 422, "invalid_image"),
    ("text-declared-jpeg", b"just some text, not a photo\n" * 10, "image/jpeg", "IMG.JPG", 415,
     "unsupported_media_type"),
    # Issue 15, item 1: 24 megapixels in 180 KB, the last scan repeated 1000 times (14 s of CPU unchecked).
    ("repeated-scan-progressive-jpeg", images.scan_bomb(1000), "image/jpeg", "IMG_0004.JPG", 422,
     "invalid_image"),
    ("repeated-scans-behind-garbage", images.insert_between_scans(images.scan_bomb(200), b"\x00junk"),
     "image/jpeg", "IMG_0005.JPG", 422, "invalid_image"),
]  # fmt: skip


def _mpf_camera_file() -> bytes:
    primary = images.progressive_jpeg(320, 240, icc_profile=images.srgb_icc(), exif=images.gps_exif())
    return images.with_mpf_preview(primary)


def _metadata_between_scans() -> bytes:
    return images.insert_between_scans(
        images.progressive_jpeg(320, 240, icc_profile=images.srgb_icc()),
        images.segment(0xE1, b"Exif\x00\x00" + images.gps_exif()),
        images.segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"),
        images.segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x00"),
        images.segment(0xFE, b"a comment between the scans"),
    )


# Issue 15, item 2: accepted, but nothing of their metadata may reach a served file (ICC profile kept).
METADATA_CARRIERS: list[tuple[str, bytes]] = [
    ("mpf-preview-with-gps-appended", _mpf_camera_file()),
    ("exif-xmp-iptc-com-between-scans", _metadata_between_scans()),
    ("zip-appended", _jar_polyglot()),
]
METADATA_NEEDLES = (b"Exif", b"PhoneMaker", b"xmpmeta", b"8BIM", b"MPF\x00", b"a comment", b"PK\x03\x04")

# Accepted by their bytes whatever their name or declared type; the result lands under media/results only.
ACCEPTED: list[tuple[str, bytes, str, str]] = [
    ("png-declared-jpeg", images.png(), "image/jpeg", "IMG_0003.JPG"),
    ("jpeg-declared-text", images.jpeg(), "text/plain", "notes.txt"),
    ("jar-polyglot", _jar_polyglot(), "image/jpeg", "IMG.JPG"),
    ("dotdot-name", images.jpeg(), "image/jpeg", "../../../../etc/passwd"),
    ("windows-path-name", images.jpeg(), "image/jpeg", r"C:\Windows\System32\drivers\etc\hosts.jpg"),
    ("absolute-name", images.jpeg(), "image/jpeg", "/var/lib/photochanger/media/results/x.jpg"),
    ("nul-in-name", images.jpeg(), "image/jpeg", "IMG\x00.jpg.php"),
]


def _part(name: str, value: bytes, *, filename: str | None = None, content_type: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + value + b"\r\n"


def _body(*parts: bytes, close: bool = True) -> bytes:
    return b"".join(parts) + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


def _fields(**extra: str) -> list[bytes]:
    fields = booth_fields(INGEST_PASSWORD, **extra)
    return [_part(k, v.encode()) for k, v in fields.items()]


async def _post(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await client.post(
        URL, content=body, headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    )


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert (response.status_code, response.headers.get("content-type")) == (
        status,
        "application/problem+json",
    ), (
        response.status_code,
        response.text[:500],
    )
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert "/" not in body.get("detail", "").replace("multipart/form-data", "").replace("JPEG, PNG", ""), body


@pytest.mark.parametrize(
    ("case", "data", "declared", "filename", "status", "code"), CORPUS, ids=[c[0] for c in CORPUS]
)
async def test_bad_file_gets_its_documented_answer_and_leaves_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    config: AppConfig,
    case: str,
    data: bytes,
    declared: str,
    filename: str,
    status: int,
    code: str,
) -> None:
    body = _body(*_fields(), _part("fileToUpload", data, filename=filename, content_type=declared))
    _problem(await _post(client, body), status, code)
    rows = await assert_clean_state(app, config)
    assert rows == [], f"{case}: a refused upload must not become a job"


@pytest.mark.parametrize(("case", "data", "declared", "filename"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
async def test_file_is_judged_by_its_bytes_never_its_name_or_declared_type(
    app: FastAPI,
    client: httpx.AsyncClient,
    config: AppConfig,
    case: str,
    data: bytes,
    declared: str,
    filename: str,
) -> None:
    body = _body(*_fields(), _part("fileToUpload", data, filename=filename, content_type=declared))
    response = await _post(client, body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert b"PK\x03\x04" not in response.content, "the appended archive must not survive the re-encode"
    rows = await assert_clean_state(app, config)
    assert [r.status for r in rows] == ["done"]
    assert rows[0].result_path is not None
    assert rows[0].result_path.startswith("results/slot-001/"), rows[0].result_path
    assert ".." not in rows[0].result_path


@pytest.mark.parametrize(("case", "data"), METADATA_CARRIERS, ids=[c[0] for c in METADATA_CARRIERS])
async def test_no_metadata_or_trailing_data_reaches_a_served_file(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, case: str, data: bytes
) -> None:
    body = _body(*_fields(), _part("fileToUpload", data, filename="IMG_0006.JPG", content_type="image/jpeg"))
    response = await _post(client, body)
    assert response.status_code == 200, response.text
    public = await client.get(f"/public/results/{response.headers['x-job-id']}")
    assert public.status_code == 200
    for served in (response.content, public.content):
        for needle in METADATA_NEEDLES:
            assert needle not in served, (case, needle)
        assert served.count(b"\xff\xd8") == 1, case
        assert served.endswith(b"\xff\xd9"), case
    if b"ICC_PROFILE" in data:
        icc = images.decode(data).info["icc_profile"]
        assert images.decode(public.content).info.get("icc_profile") == icc
    rows = await assert_clean_state(app, config)
    assert [r.status for r in rows] == ["done"]


async def test_two_file_parts_are_refused(app: FastAPI, client: httpx.AsyncClient, config: AppConfig) -> None:
    jpeg = images.jpeg()
    body = _body(
        *_fields(),
        _part("fileToUpload", jpeg, filename="a.jpg", content_type="image/jpeg"),
        _part("fileToUpload", jpeg, filename="b.jpg", content_type="image/jpeg"),
    )
    _problem(await _post(client, body), 400, "invalid_request")
    assert await assert_clean_state(app, config) == []


async def test_ten_thousand_fields_are_refused(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig
) -> None:
    many = [_part(f"f{i}", b"x") for i in range(10_000)]
    body = _body(
        *_fields(), *many, _part("fileToUpload", images.jpeg(), filename="a.jpg", content_type="image/jpeg")
    )
    _problem(await _post(client, body), 400, "invalid_request")
    assert await assert_clean_state(app, config) == []


async def test_body_without_its_closing_boundary_is_refused(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig
) -> None:
    body = _body(
        *_fields(),
        _part("fileToUpload", images.jpeg(), filename="a.jpg", content_type="image/jpeg"),
        close=False,
    )
    _problem(await _post(client, body), 400, "invalid_request")
    assert await assert_clean_state(app, config) == []


async def test_file_part_cut_off_mid_stream_is_refused(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig
) -> None:
    whole = _body(
        *_fields(), _part("fileToUpload", images.noisy_jpeg(0.3), filename="a.jpg", content_type="image/jpeg")
    )
    _problem(await _post(client, whole[: len(whole) // 2]), 400, "invalid_request")
    assert await assert_clean_state(app, config) == []


# --- issue 15: multipart parts, the password before the photo, reused booth shot ids ------------------
async def test_388000_parts_under_one_name_are_refused(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig
) -> None:
    body = _body(
        *_fields(),
        _part("id", b"1") * 388_000,
        _part("fileToUpload", images.jpeg(), filename="a.jpg", content_type="image/jpeg"),
    )
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        for at in range(0, len(body), 65536):
            pulled += 1
            yield body[at : at + 65536]

    response = await client.post(
        URL, content=chunks(), headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    )
    _problem(response, 400, "invalid_request")
    assert pulled <= 2, f"{pulled} chunks of {len(body) // 65536} parsed"
    assert await assert_clean_state(app, config) == []


async def test_a_wrong_password_is_refused_before_the_photo_is_read(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig
) -> None:
    fields = [_part(k, v.encode()) for k, v in booth_fields("a guess").items()]
    head = _part("fileToUpload", b"", filename="a.jpg", content_type="image/jpeg")[: -len(b"\r\n")]
    photo = images.noisy_jpeg(0.5)
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for i, chunk in enumerate(
            [b"".join(fields), head, *(photo[k : k + 8192] for k in range(0, len(photo), 8192))]
        ):
            sent.append(i)
            yield chunk
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    response = await client.post(
        URL, content=chunks(), headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    )
    _problem(response, 401, "invalid_password")
    assert sent == [0, 1], "not a byte of the photo was read"
    assert await assert_clean_state(app, config) == []


async def test_a_reused_booth_shot_id_with_another_photo_is_a_new_shot(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig
) -> None:
    first = _body(
        *_fields(), _part("fileToUpload", images.jpeg(60, 40), filename="a.jpg", content_type="image/jpeg")
    )
    other = _body(
        *_fields(), _part("fileToUpload", images.jpeg(61, 40), filename="a.jpg", content_type="image/jpeg")
    )
    answers = [await _post(client, first), await _post(client, other)]
    assert [r.status_code for r in answers] == [200, 200], answers[1].text
    assert answers[0].headers["x-job-id"] != answers[1].headers["x-job-id"]
    rows = await assert_clean_state(app, config)
    assert [r.status for r in rows] == ["done", "done"]
