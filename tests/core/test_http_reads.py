"""The server's HTTP protocol (`core.http_reads`): sockets read into one shared buffer, a bounded piece at a
time, with request bodies, keep-alive, pipelining and `Expect: 100-continue` as uvicorn's own protocol does
them. Driven over real sockets on 127.0.0.1 with uvicorn and its default (uvloop) event loop."""

import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from photochanger.core.http_reads import HTTP_PROTOCOL, READ_BYTES

# uvicorn pauses a connection once more than this much body waits for its handler.
HIGH_WATER = 64 * 1024


class _Recorder:
    """An ASGI app answering each request with the SHA-256 of its body; keeps the size of every body
    message it received."""

    def __init__(self) -> None:
        self.chunk_sizes: list[int] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        digest = hashlib.sha256()
        while True:
            message = await receive()
            body = message.get("body", b"")
            self.chunk_sizes.append(len(body))
            digest.update(body)
            if not message.get("more_body"):
                break
        answer = digest.hexdigest().encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})
        await send({"type": "http.response.body", "body": answer})


@contextmanager
def _serving(app: _Recorder) -> Iterator[tuple[str, int]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=HTTP_PROTOCOL, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the server stopped before it started"
        assert time.monotonic() < deadline, "the server did not start in 10 s"
        time.sleep(0.01)
    try:
        yield "127.0.0.1", sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def recorder() -> _Recorder:
    return _Recorder()


@pytest.fixture
def address(recorder: _Recorder) -> Iterator[tuple[str, int]]:
    with _serving(recorder) as addr:
        yield addr


def _url(address: tuple[str, int]) -> str:
    return f"http://{address[0]}:{address[1]}/"


def test_a_large_body_arrives_whole_and_in_bounded_pieces(
    address: tuple[str, int], recorder: _Recorder
) -> None:
    body = os.urandom(3 * 1024 * 1024 + 17)
    response = httpx.post(_url(address), content=body, timeout=30)
    assert response.status_code == 200
    assert response.text == hashlib.sha256(body).hexdigest()
    # Never more than one read beyond the high-water mark waits for the handler (the default protocol
    # hands over up to 256 KiB reads).
    assert max(recorder.chunk_sizes) <= HIGH_WATER + READ_BYTES
    assert sum(recorder.chunk_sizes) == len(body)


def test_concurrent_connections_sharing_the_buffer_keep_their_own_bytes(address: tuple[str, int]) -> None:
    bodies = [os.urandom(1024 * 1024 + n) for n in range(8)]

    def post(body: bytes) -> str:
        return httpx.post(_url(address), content=body, timeout=30).text

    with ThreadPoolExecutor(len(bodies)) as pool:
        digests = list(pool.map(post, bodies))
    assert digests == [hashlib.sha256(b).hexdigest() for b in bodies]


def test_keep_alive_and_pipelined_requests_on_one_connection(address: tuple[str, int]) -> None:
    first, second = os.urandom(200_000), os.urandom(90_000)
    request = b"".join(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        for body in (first, second)
    )
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(request)  # both at once: the second is pipelined behind the first
        received = b""
        while received.count(b"HTTP/1.1 200") < 2 or not received.endswith(
            hashlib.sha256(second).hexdigest().encode()
        ):
            chunk = conn.recv(65536)
            assert chunk, f"connection closed early: {received!r}"
            received += chunk
    assert hashlib.sha256(first).hexdigest().encode() in received
    assert received.index(hashlib.sha256(first).hexdigest().encode()) < received.index(
        hashlib.sha256(second).hexdigest().encode()
    )


def test_expect_100_continue_is_answered_before_the_body(address: tuple[str, int]) -> None:
    body = os.urandom(500_000)
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        interim = conn.recv(65536)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.sendall(body)
        received = interim[len(b"HTTP/1.1 100 Continue\r\n\r\n") :]
        while not received.endswith(hashlib.sha256(body).hexdigest().encode()):
            chunk = conn.recv(65536)
            assert chunk, f"connection closed early: {received!r}"
            received += chunk
    assert received.startswith(b"HTTP/1.1 200")


def test_a_malformed_request_gets_400(address: tuple[str, int]) -> None:
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
        answer = conn.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400")
