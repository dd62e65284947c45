"""Process-wide logging: one JSON object per line (or plain text for development), redacted by construction.

Every record passes through `redact()` before it is written, whatever logger produced it (ours, uvicorn's,
httpx's): keys that name a secret are masked, and string values are scrubbed of bearer tokens, JWTs, API keys
in URLs, known provider key shapes, registered secret values and long base64 payloads. The request id of the
HTTP request being served (see `core.request_id`) is added to every line.
"""

import json
import logging
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REDACTED = "[REDACTED]"
# Strings longer than this made only of base64 characters are image payloads (or worse): never logged.
BASE64_MIN_LENGTH = 200
MAX_DEPTH = 6

request_id_var: ContextVar[str | None] = ContextVar("photochanger_request_id", default=None)

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}
_SECRET_KEY = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[-_]?key|apikey|authorization|cookie|credential|"
    r"x-goog-api-key|private[-_]?key|signature",
    re.IGNORECASE,
)
# Keys that contain a secret word but hold no secret.
_SAFE_KEYS = frozenset({"token_type", "tokens_revoked", "password_changed_at"})
_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
    (
        re.compile(
            r"(?i)((?:[?&;]|\b)(?:key|api[-_]?key|apikey|token|access_token|password|passwd|secret|sig|"
            r"signature|x-goog-api-key)=)[^&\s\"']+"
        ),
        r"\1" + REDACTED,
    ),
    (
        re.compile(
            r"(?i)([\"']?(?:password|passwd|secret|token|api[-_]?key|authorization|cookie|x-goog-api-key)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\"'\s,}]+"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{20,}"), REDACTED),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), REDACTED),
    (re.compile(rf"[A-Za-z0-9+/_-]{{{BASE64_MIN_LENGTH},}}={{0,2}}"), "[payload]"),
)
_known_secrets: set[str] = set()


def register_secret(*values: str | None) -> None:
    """Mask these exact values wherever they appear in a log line (configured API keys, tokens)."""
    _known_secrets.update(v for v in values if v and len(v) >= 6)


def redact_text(text: str) -> str:
    for secret in sorted(_known_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _VALUE_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def is_secret_key(key: str) -> bool:
    return key.lower() not in _SAFE_KEYS and _SECRET_KEY.search(key) is not None


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of `value` safe to log: secret keys masked, strings scrubbed, bytes summarised."""
    if depth > MAX_DEPTH:
        return "[…]"
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"[{len(value)} bytes]"
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): REDACTED if is_secret_key(str(k)) else redact(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v, depth + 1) for v in value]
    return redact_text(str(value))


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _RESERVED and not k.startswith("_")}


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a bad %-format in someone's log call must not lose the line
        return str(record.msg)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event, request_id, the record's extras (redacted)."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": redact_text(_message(record)),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            payload["request_id"] = request_id
        for key, value in _extra(record).items():
            if key in payload:
                key = f"extra_{key}"
            payload[key] = REDACTED if is_secret_key(key) else redact(value)
        if record.exc_info:
            payload["exc"] = redact_text(self.formatException(record.exc_info))
        if record.stack_info:
            payload["stack"] = redact_text(record.stack_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Plain text for development, with the same redaction and the extras appended as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extra(record)
        request_id = request_id_var.get()
        if request_id is not None:
            extras = {"request_id": request_id, **extras}
        if extras:
            safe = {k: REDACTED if is_secret_key(k) else redact(v) for k, v in extras.items()}
            line += " " + " ".join(f"{k}={v}" for k, v in safe.items())
        return redact_text(line)


# Loggers whose own handlers would bypass ours: their records are sent to the root handler instead.
_ROUTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore")


def configure_logging(level: str = "INFO", fmt: str = "json", secrets: Iterable[str | None] = ()) -> None:
    """Install the single stderr handler on the root logger (idempotent) and route uvicorn's and httpx's
    loggers through it. httpx logs every request URL at INFO: it is held at WARNING so nothing it would
    print reaches the log unless something goes wrong (and then still redacted)."""
    register_secret(*secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_photochanger", False):
            root.removeHandler(existing)
    handler._photochanger = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in _ROUTED_LOGGERS:
        routed = logging.getLogger(name)
        routed.handlers.clear()
        routed.propagate = True
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # At a terminal (text format) alembic's per-revision lines are noise; JSON logs keep them for ops.
    logging.getLogger("alembic").setLevel(logging.WARNING if fmt == "text" else logging.NOTSET)
