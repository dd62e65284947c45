"""The provider protocol, the request a driver gets, the result it returns, and the error taxonomy.

Drivers take bytes and validated options and return bytes, or raise exactly one `ProviderError` subclass.
They never touch the database or FastAPI, so each can be tested against a fake upstream alone.
"""

import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel

from photochanger.core.images import PreparedImage


class ProviderError(Exception):
    """Base of the taxonomy. `reason` is the stable failure reason recorded on the job."""

    reason: ClassVar[str] = "provider_error"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        upstream_status: int | None = None,
        key_rejected: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.upstream_status = upstream_status
        # The upstream refused the credentials themselves (invalid, revoked, no billing): another key may
        # work, this one will not until an admin acts. 401 and 403 imply it, except on a content refusal
        # (OpenRouter answers moderation with 403); drivers set it for the rest.
        self.key_rejected = key_rejected or (
            upstream_status in (401, 403) and not isinstance(self, ProviderRefused)
        )


class ProviderRefused(ProviderError):
    """The provider declined the content (safety, policy, no image produced on purpose). Not retried."""

    reason = "provider_refused"


class ProviderUnavailable(ProviderError):
    """Transient: outage, overload, rate limit or quota. `retry_after` in seconds when the upstream said."""

    reason = "provider_unavailable"


class ProviderFailed(ProviderError):
    """Bad configuration or credentials, or a malformed answer. Retrying will not help."""

    reason = "provider_error"


class ProviderMisconfigured(ProviderFailed):
    """The upstream refused the account or the request as configured (missing permission, region, guardrail,
    unknown model): an admin has to act. `message` carries the provider's own words."""

    reason = "provider_misconfigured"


class ProviderQuotaExhausted(ProviderFailed):
    """A quota no retry within hours can cure: zero quota on the key's tier, a per-day limit, no credits."""

    reason = "quota_exhausted"


class ProviderTimeout(ProviderError):
    """The job's deadline passed before the provider answered."""

    reason = "timeout"


@dataclass(frozen=True)
class TemplateImage:
    """A template media object handed to a driver: its bytes, MIME type and a stable id."""

    id: str
    data: bytes
    content_type: str


@dataclass(frozen=True)
class Deadline:
    """An absolute point on the monotonic clock; everything downstream derives its timeouts from it."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> "Deadline":
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def http_timeout(self, *, connect_cap: float = 10.0) -> httpx.Timeout:
        """An httpx timeout that cannot outlive the deadline."""
        left = max(self.remaining(), 0.001)
        return httpx.Timeout(left, connect=min(left, connect_cap))


class Photo:
    """The validated photo's bytes: given, or read from `path` the first time something asks for them
    and kept from then on. A job whose drivers all send the input the validation prepared never reads
    them, so it does not hold the photo in memory while the provider works.

    `metadata_free`: the validation found a JPEG with nothing to drop (no metadata, so upright): passed
    through, it is its own result and nobody needs to read it to know that."""

    def __init__(
        self, data: bytes | None = None, *, path: Path | None = None, metadata_free: bool = False
    ) -> None:
        self._data = data
        self.path = path
        self.metadata_free = metadata_free
        self._lock = threading.Lock()

    @property
    def data(self) -> bytes:
        """The bytes; the first call reads the file (blocking: call it from a worker thread)."""
        with self._lock:
            if self._data is None:
                if self.path is None:
                    raise ValueError("a Photo needs its bytes or its path")
                self._data = self.path.read_bytes()
            return self._data

    @property
    def loaded(self) -> bool:
        return self._data is not None


@dataclass(frozen=True)
class ProviderRequest:
    """What a driver gets for one job.

    `photo` is the validated input (JPEG, PNG or WebP; `image` its bytes) and `templates` the
    template media the options refer to, by id. `deadline` is absolute: a driver must give up, raising
    `ProviderTimeout`, once it passes. `output_type` is the MIME type the slot wants back; drivers that
    encode locally should produce it directly (the caller re-encodes anything else). `public_media_url` publishes bytes at a short-lived unguessable URL
    (for providers that only take inputs by URL); it is None where the server cannot offer that.
    """

    job_id: str
    photo: Photo
    content_type: str
    options: BaseModel
    deadline: Deadline
    templates: Mapping[str, TemplateImage] = field(default_factory=dict)
    output_type: str = "image/jpeg"
    public_media_url: Callable[[bytes, str], Awaitable[str]] | None = None
    # The result's guest link, stamped as a QR code when an operation's `stamp_qr` option is on.
    guest_url: str | None = None
    # `image` already fitted to the driver's `input_side` by the validation decode (see `InputCapped`).
    prepared_input: PreparedImage | None = None
    # (width, height) of `image` as stored, read from its header by the validation; None: not known.
    image_size: tuple[int, int] | None = None
    # The account key chosen for this call (admin-managed keys); None means the driver's own (environment)
    # key. Never logged: excluded from the repr.
    api_key: str | None = field(default=None, repr=False)
    # The caller has another key or provider to try: a rate limit is raised at once, not waited out.
    rate_limit_elsewhere: bool = False

    @property
    def image(self) -> bytes:
        """The photo's bytes (see `Photo.data`: the first use may read the file, so use it in a thread)."""
        return self.photo.data


@dataclass(frozen=True)
class ProviderResult:
    """A driver's output: encoded image bytes (or the request's `Photo` when the result is the photo as it
    is), their MIME type, and loggable facts (never payloads or keys)."""

    output: bytes | Photo
    content_type: str
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def data(self) -> bytes:
        """The image's bytes (for a `photo` result, see `Photo.data`: the first use may read the file)."""
        return self.output if isinstance(self.output, bytes) else self.output.data

    @property
    def photo(self) -> Photo | None:
        """The request's photo when the result is that photo unchanged: its file may serve as the result."""
        return self.output if isinstance(self.output, Photo) else None


@dataclass(frozen=True)
class Operation:
    """One operation a provider offers; `options_model` becomes the JSON Schema the admin UI renders."""

    id: str
    title: str
    options_model: type[BaseModel]
    template_fields: tuple[str, ...] = ()

    def template_ids(self, options: BaseModel) -> list[str]:
        """The template media ids `options` refers to, in a stable order."""
        ids: list[str] = []
        for name in self.template_fields:
            value = getattr(options, name, None)
            if isinstance(value, str) and value:
                ids.append(value)
            elif isinstance(value, list | tuple):
                ids.extend(str(v) for v in value if v)
        return ids


@dataclass(frozen=True)
class FieldProblem:
    """One reason a slot configuration can only fail: `field` is the options field (dotted, under
    `params`), or `output_format` for the slot's own output setting. A `warning` does not stop the save
    (the configuration works, but e.g. typically takes longer than the booth waits)."""

    field: str
    message: str
    kind: str
    warning: bool = False


@dataclass(frozen=True)
class SlotCheck:
    """What a driver may look at when a slot configuration is saved: the validated options, the slot's
    output MIME type, the template media it names (by id), the server's public base URL and how long a
    booth waits for a synchronous answer (`t_sync_response`, seconds)."""

    options: BaseModel
    output_type: str
    templates: Mapping[str, TemplateImage]
    public_base_url: str
    sync_wait_seconds: float | None = None


# How long one "check connection" call may take, from the slot editor or for a stored key.
CONNECTION_CHECK_SECONDS = 10.0


@dataclass(frozen=True)
class ConnectionCheck:
    """The answer of a "check connection" call: `ok`, and the provider's own text when it is not."""

    ok: bool
    detail: str
    upstream_status: int | None = None


@runtime_checkable
class InputCapped(Protocol):
    """A driver that sends the photo upstream downscaled: the server prepares that input from the decode
    that validates the upload and hands it in as `prepared_input`.

    `input_max_side` is the most it ever sends (px, long side). `input_side` is what it sends for one
    slot's options and a photo of `size` (width, height): the smallest long side that loses nothing the
    upstream would use, never more than `input_max_side`. It must not raise on options of another model.
    """

    input_max_side: int

    def input_side(self, operation: str, options: BaseModel, size: tuple[int, int]) -> int: ...


@runtime_checkable
class Provider(Protocol):
    """An image provider driver.

    `run` must finish before `request.deadline` or raise `ProviderTimeout`; every other failure is one of
    `ProviderRefused`, `ProviderUnavailable` or `ProviderFailed`. It may retry transient failures only while
    the deadline leaves room.
    """

    id: str
    title: str
    operations: Mapping[str, Operation]

    @property
    def configured(self) -> bool:
        """True when the driver has what it needs (API key) to be used."""
        ...

    async def run(self, operation: str, request: ProviderRequest) -> ProviderResult: ...

    def check_slot(self, operation: str, check: SlotCheck) -> list[FieldProblem]:
        """Problems that would make every job of this configuration fail (incompatible options, templates
        the upstream cannot take). Blocking Pillow work is allowed: callers run it in a worker thread.
        An empty list when the configuration can work."""
        ...

    async def check_connection(self, deadline: Deadline, api_key: str | None = None) -> ConnectionCheck:
        """One cheap authenticated call (the configured model's metadata, the key's info) before
        `deadline`, with `api_key` (else the driver's own key). Never raises for upstream answers: a
        refusal comes back with the provider's own text."""
        ...
