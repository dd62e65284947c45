"""Request body limits per route, enforced before any parser runs: a form or JSON route gets a small cap and
no multipart, while upload routes keep their own streamed, per-route caps (`core.multipart.read_upload`).

Bodies of capped routes are read here, up to the cap, and replayed to the app: a declared length over the
cap is refused without reading a byte, a chunked body as soon as it passes the cap. Starlette's own form
parsing (`request.form()`) would otherwise keep every field in memory and spool any file part to disk.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from photochanger.core.errors import ERROR_CODE_SCOPE_KEY, PhotoChangerError, error_response

KIB = 1024


class BodyTooLarge(PhotoChangerError):
    status_code = 413
    code = "payload_too_large"
    title = "Request body too large"


class MultipartNotAccepted(PhotoChangerError):
    status_code = 415
    code = "unsupported_media_type"
    title = "This route takes no file uploads"


@dataclass(frozen=True)
class BodyPolicy:
    """`max_bytes` None: the route enforces its own cap while streaming (an upload route)."""

    max_bytes: int | None
    multipart: bool = False


UPLOAD = BodyPolicy(max_bytes=None, multipart=True)


@dataclass(frozen=True)
class BodyRule:
    path: re.Pattern[str]
    policy: BodyPolicy


def rule(pattern: str, policy: BodyPolicy) -> BodyRule:
    return BodyRule(re.compile(pattern), policy)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyLimitMiddleware:
    """Pure ASGI. The first rule whose pattern matches the path (`re.fullmatch`) applies, else `default`."""

    def __init__(self, app: ASGIApp, *, rules: Sequence[BodyRule], default: BodyPolicy) -> None:
        self.app = app
        self.rules = list(rules)
        self.default = default

    def policy_for(self, path: str) -> BodyPolicy:
        for candidate in self.rules:
            if candidate.path.fullmatch(path):
                return candidate.policy
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        policy = self.policy_for(scope["path"])
        if policy.max_bytes is None:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        content_type = headers.get("content-type", "").lower()
        if not policy.multipart and content_type.startswith("multipart/"):
            await self._refuse(
                scope,
                receive,
                send,
                MultipartNotAccepted("Send this form URL-encoded or as JSON, without files."),
            )
            return
        too_large = BodyTooLarge(f"The request body may be at most {policy.max_bytes // KIB} KiB here.")
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > policy.max_bytes:
            await self._refuse(scope, receive, send, too_large)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay(bytes(body), message, receive), send)
                return
            body += message.get("body", b"")
            if len(body) > policy.max_bytes:
                await self._refuse(scope, receive, send, too_large)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), None, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, exc: PhotoChangerError) -> None:
        scope[ERROR_CODE_SCOPE_KEY] = exc.code
        response = error_response(exc, instance=scope["path"])
        # The rest of the body is never read; tell the client this connection ends with the answer.
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _replay(body: bytes, pending: Message | None, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if pending is not None:
                return pending
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
