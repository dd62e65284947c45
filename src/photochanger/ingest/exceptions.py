"""Errors the ingest endpoint answers with; each has a stable `code` the booth integration can rely on."""

from photochanger.core.disk import InsufficientStorage
from photochanger.core.errors import PhotoChangerError
from photochanger.core.uploads import InvalidRequest, PayloadTooLarge, UploadTimeout


class InvalidPassword(PhotoChangerError):
    status_code = 401
    code = "invalid_password"
    title = "Invalid ingest password"


class SlotNotFound(PhotoChangerError):
    status_code = 404
    code = "slot_not_found"
    title = "Slot not found"


class SlotDisabled(PhotoChangerError):
    status_code = 409
    code = "slot_disabled"
    title = "Slot disabled"


class UnsupportedMediaType(PhotoChangerError):
    status_code = 415
    code = "unsupported_media_type"
    title = "Unsupported image type"


class InvalidImage(PhotoChangerError):
    status_code = 422
    code = "invalid_image"
    title = "Invalid image"


class IdempotencyConflict(PhotoChangerError):
    status_code = 422
    code = "idempotency_conflict"
    title = "Idempotency key reused for a different photo"


class ProviderRefusedError(PhotoChangerError):
    status_code = 422
    code = "provider_refused"
    title = "The provider refused this photo"


class TooManyPasswordAttempts(PhotoChangerError):
    status_code = 429
    code = "too_many_password_attempts"
    title = "Too many wrong ingest passwords"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many wrong ingest passwords from this address; try again in {retry_after_seconds} s.",
            headers={"Retry-After": str(retry_after_seconds)},
            extra={"retry_after": retry_after_seconds},
        )


class Busy(PhotoChangerError):
    status_code = 429
    code = "busy"
    title = "Too many photos in progress"


class ProviderFailure(PhotoChangerError):
    status_code = 502
    code = "provider_error"
    title = "The provider failed"


class Unavailable(PhotoChangerError):
    status_code = 503
    code = "unavailable"
    title = "Temporarily unavailable"


class IngestTimeout(PhotoChangerError):
    status_code = 504
    code = "timeout"
    title = "Processing took too long"


INGEST_ERRORS: tuple[type[PhotoChangerError], ...] = (
    InvalidRequest,
    UploadTimeout,
    InvalidPassword,
    SlotNotFound,
    SlotDisabled,
    PayloadTooLarge,
    UnsupportedMediaType,
    InvalidImage,
    IdempotencyConflict,
    ProviderRefusedError,
    TooManyPasswordAttempts,
    Busy,
    ProviderFailure,
    Unavailable,
    IngestTimeout,
    InsufficientStorage,
)
