"""One error base class and one handler that renders every error as RFC 9457 problem+json."""

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:photochanger:problem:"
# The handlers leave the problem's `code` in the ASGI scope for the HTTP metrics middleware.
ERROR_CODE_SCOPE_KEY = "photochanger.error_code"


class PhotoChangerError(Exception):
    """Base of every error a client may see: an HTTP status, a stable `code` and a human title.

    Subclasses set the class attributes; instances may add a `detail`, extra `headers` (e.g. `Retry-After`)
    and field `errors`.
    """

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = dict(headers or {})
        self.errors = list(errors) if errors is not None else None
        self.extra = dict(extra or {})


class BadRequest(PhotoChangerError):
    status_code = 400
    code = "invalid_request"
    title = "Invalid request"


class NotFound(PhotoChangerError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class ValidationFailed(PhotoChangerError):
    status_code = 422
    code = "validation_error"
    title = "Validation failed"


class Conflict(PhotoChangerError):
    status_code = 409
    code = "conflict"
    title = "Conflict"


class ServiceUnavailable(PhotoChangerError):
    status_code = 503
    code = "unavailable"
    title = "Service unavailable"


def problem_body(
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None,
    instance: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"{PROBLEM_TYPE_PREFIX}{code}",
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = list(errors)
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return body


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body = problem_body(
        status=status, code=code, title=title, detail=detail, instance=instance, errors=errors, extra=extra
    )
    response_headers = {"Cache-Control": "no-store", **(headers or {})}
    return JSONResponse(body, status_code=status, headers=response_headers, media_type=PROBLEM_CONTENT_TYPE)


def error_response(exc: PhotoChangerError, instance: str | None = None) -> JSONResponse:
    return problem_response(
        status=exc.status_code,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        instance=instance,
        headers=exc.headers,
        errors=exc.errors,
        extra=exc.extra,
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        # Never echo the submitted value back: it may be a password.
        out.append(
            {
                "loc": loc,
                "field": ".".join(loc[1:]) or ".".join(loc),
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
        )
    return out


_HTTP_CODES: dict[int, str] = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "busy",
}


async def _handle_photochanger_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PhotoChangerError)  # noqa: S101 - registered for this type only
    request.scope[ERROR_CODE_SCOPE_KEY] = exc.code
    return error_response(exc, instance=request.url.path)


async def _handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type only
    request.scope[ERROR_CODE_SCOPE_KEY] = ValidationFailed.code
    return problem_response(
        status=422,
        code=ValidationFailed.code,
        title=ValidationFailed.title,
        detail="The request has invalid fields.",
        instance=request.url.path,
        errors=_field_errors(exc),
    )


async def _handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this type only
    status = exc.status_code
    request.scope[ERROR_CODE_SCOPE_KEY] = _HTTP_CODES.get(status, f"http_{status}")
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    if status == 404 and detail in (None, "Not Found"):
        detail = "No resource lives at this address."
    return problem_response(
        status=status,
        code=_HTTP_CODES.get(status, f"http_{status}"),
        title=title,
        detail=detail,
        instance=request.url.path,
        headers=exc.headers,
    )


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", extra={"path": request.url.path})
    request.scope[ERROR_CODE_SCOPE_KEY] = PhotoChangerError.code
    return problem_response(
        status=500,
        code=PhotoChangerError.code,
        title=PhotoChangerError.title,
        detail="Something went wrong on our side; it has been logged.",
        instance=request.url.path,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PhotoChangerError, _handle_photochanger_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(Exception, _handle_unexpected)


def problem_responses(*errors: type[PhotoChangerError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the errors a route may raise, so the document is honest."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in errors:
        entry = out.setdefault(
            err.status_code,
            {
                "description": err.title,
                "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        )
        if err.title not in entry["description"]:
            entry["description"] += f" / {err.title}"
    return out
