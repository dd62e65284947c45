"""A scriptable fake upstream: a real Starlette app served by uvicorn on 127.0.0.1 in a background thread.

Each provider fake subclasses `FakeUpstream`, declares its routes, and answers with `Reply` objects:
scripted ones first (per route, in order), then the route's default (usually success). Every request
received is recorded (`received`, `count()`, `last()`), parsed (JSON, form or multipart), so tests can
assert what the driver sent.
"""

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Self
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_NO_JSON = object()


@dataclass(frozen=True)
class Reply:
    """One scripted answer: `json` (serialised) or raw `body`, after an optional `delay` in seconds."""

    status: int = 200
    json: Any = _NO_JSON
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    delay: float = 0.0

    @classmethod
    def malformed(cls, status: int = 200) -> "Reply":
        """A body that claims to be JSON and is not."""
        return cls(status=status, body=b'{"candidates": [', content_type="application/json")

    @classmethod
    def slow(cls, seconds: float, reply: "Reply | None" = None) -> "Reply":
        """`reply` (default: an empty JSON object) after `seconds`."""
        base = reply or cls(json={})
        return cls(base.status, base.json, base.body, base.headers, base.content_type, seconds)


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class Received:
    """One request as the fake saw it."""

    route: str
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    json: Any = None
    form: dict[str, list[str]] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)
    path_params: dict[str, str] = field(default_factory=dict)

    def field(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None


Handler = Callable[[Received], Awaitable[Reply] | Reply]


class FakeUpstream:
    """Base of the provider fakes. Use as `with Fake().running() as fake:`; `fake.url` is its base URL."""

    api_key = "test-key-0123456789"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[Reply]] = {}
        self.received: list[Received] = []
        # Requests being answered right now, and the most at once since the last reset: the fake's own count
        # of concurrent calls, whatever the callers believe about their limits.
        self.in_flight = 0
        self.max_in_flight = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # --- what subclasses provide -------------------------------------------------------------------
    def routes(self) -> list[tuple[str, str, list[str], Handler]]:
        """(route name, path, methods, default handler) for each endpoint."""
        raise NotImplementedError

    def on_reset(self) -> None:
        """Clear subclass state between tests."""

    def on_scripted(self, received: Received) -> None:
        """Called when a scripted reply answered `received` (the default handler did not run)."""

    def classify(self, received: Received) -> str:
        """The route name a request counts under (override to split one path by its body)."""
        return received.route

    # --- scripting -------------------------------------------------------------------------------------
    def script(self, *replies: Reply, route: str = "main") -> Self:
        """Answer the next requests to `route` with `replies`, in order, then fall back to its default."""
        with self._lock:
            self._scripts.setdefault(route, deque()).extend(replies)
        return self

    def always(self, reply: Reply, route: str = "main", times: int = 50) -> Self:
        """Answer `reply` to (up to) the next `times` requests to `route`."""
        return self.script(*([reply] * times), route=route)

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self.received.clear()
            self.max_in_flight = self.in_flight
        self.on_reset()

    def count(self, route: str | None = None) -> int:
        """Requests received (on `route` if given)."""
        with self._lock:
            return sum(1 for r in self.received if route is None or r.route == route)

    def last(self, route: str | None = None) -> Received:
        with self._lock:
            matching = [r for r in self.received if route is None or r.route == route]
        if not matching:
            raise AssertionError(f"no request received on {route or 'any route'}")
        return matching[-1]

    # --- serving ---------------------------------------------------------------------------------------
    async def _parse(self, route: str, request: Request) -> Received:
        raw = await request.body()
        content_type = request.headers.get("content-type", "")
        parsed_json: Any = None
        form: dict[str, list[str]] = {}
        files: list[UploadedFile] = []
        if content_type.startswith("application/json"):
            try:
                parsed_json = json.loads(raw)
            except ValueError:
                parsed_json = None
        elif content_type.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
        elif content_type.startswith("multipart/form-data"):
            async with request.form(max_files=64, max_fields=64) as data:
                for name, value in data.multi_items():
                    if isinstance(value, UploadFile):
                        files.append(
                            UploadedFile(name, value.filename, value.content_type, await value.read())
                        )
                    else:
                        form.setdefault(name, []).append(value)
        return Received(
            route=route,
            method=request.method,
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            raw=raw,
            json=parsed_json,
            form=form,
            files=files,
            path_params={k: str(v) for k, v in request.path_params.items()},
        )

    def _endpoint(self, route: str, default: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            with self._lock:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                return await answer(request)
            finally:
                with self._lock:
                    self.in_flight -= 1

        async def answer(request: Request) -> Response:
            received = await self._parse(route, request)
            received = replace(received, route=self.classify(received))
            with self._lock:
                self.received.append(received)
                queue = self._scripts.get(received.route)
                scripted = queue.popleft() if queue else None
            if scripted is not None:
                reply = scripted
                self.on_scripted(received)
            else:
                produced = default(received)
                reply = await produced if isinstance(produced, Awaitable) else produced
            return await self._respond(reply)

        return endpoint

    async def _respond(self, reply: Reply) -> Response:
        if reply.delay > 0:
            if self._stop_event is None:
                self._loop, self._stop_event = asyncio.get_running_loop(), asyncio.Event()
            # Stopping the fake cuts every pending delay short, so shutdown never waits on a slow reply.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), reply.delay)
        if reply.body is not None:
            body = reply.body
            media_type = reply.content_type or "application/octet-stream"
        else:
            body = json.dumps({} if reply.json is _NO_JSON else reply.json).encode()
            media_type = reply.content_type or "application/json"
        return Response(body, status_code=reply.status, headers=reply.headers, media_type=media_type)

    @contextmanager
    def running(self, *, tls: tuple[str, str] | None = None) -> Iterator[Self]:
        """Serve until the block ends; `tls` (certificate file, key file) serves HTTPS instead."""
        app = Starlette(
            routes=[
                Route(path, self._endpoint(name, handler), methods=methods)
                for name, path, methods, handler in self.routes()
            ]
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        certfile, keyfile = tls or (None, None)
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._server, self._thread = server, thread
        self._loop = self._stop_event = None
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{type(self).__name__} did not start")
            time.sleep(0.01)
        try:
            yield self
        finally:
            if self._loop is not None and self._stop_event is not None:
                self._loop.call_soon_threadsafe(self._stop_event.set)
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()
