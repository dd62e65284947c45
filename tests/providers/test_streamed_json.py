"""`StreamedJson`: the request body Gemini and OpenRouter send, base64-encoding images while it goes out."""

import base64
import json
import os

from photochanger.providers.wire import Blob, StreamedJson


async def _read(body: StreamedJson) -> tuple[bytes, list[bytes]]:
    chunks = [chunk async for chunk in body]
    return b"".join(chunks), chunks


async def test_the_body_is_the_document_with_its_blobs_in_base64() -> None:
    big = os.urandom(1_000_001)  # not a multiple of 3 and several chunks long: padding only at the end
    small = b"\xff\xd8\xff\xd9"
    document = {
        "prompt": 'make it "pop" — in ünïcode',
        "parts": [{"data": Blob(big)}, {"url": Blob(small, "data:image/jpeg;base64,")}, {"n": 1}],
    }
    body = StreamedJson(document)
    raw, chunks = await _read(body)
    assert json.loads(raw) == {
        "prompt": document["prompt"],
        "parts": [
            {"data": base64.b64encode(big).decode()},
            {"url": "data:image/jpeg;base64," + base64.b64encode(small).decode()},
            {"n": 1},
        ],
    }
    assert body.headers == {"Content-Type": "application/json", "Content-Length": str(len(raw))}
    assert max(map(len, chunks)) < len(big) // 3, "the image went out as one piece"


async def test_a_retry_sends_the_same_bytes_again() -> None:
    body = StreamedJson({"data": Blob(os.urandom(300_000)), "text": "x"})
    first, _ = await _read(body)
    second, _ = await _read(body)
    assert first == second
    assert json.loads(first)["text"] == "x"


async def test_a_document_without_blobs_is_plain_json() -> None:
    body = StreamedJson({"a": [1, 2, "three"]})
    raw, _ = await _read(body)
    assert raw == json.dumps({"a": [1, 2, "three"]}).encode()
    assert body.headers["Content-Length"] == str(len(raw))
