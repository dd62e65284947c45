"""Errors of the slot admin API."""

from photochanger.core.errors import PhotoChangerError


class SlotNotFound(PhotoChangerError):
    status_code = 404
    code = "slot_not_found"
    title = "Slot not found"


class SlotVersionConflict(PhotoChangerError):
    status_code = 409
    code = "version_conflict"
    title = "The slot was changed by someone else"


class SlotValidationFailed(PhotoChangerError):
    """One entry in `errors` per bad field, located like request validation errors (`params.<field>`)."""

    status_code = 422
    code = "validation_error"
    title = "Validation failed"


class ProviderNotFound(PhotoChangerError):
    status_code = 404
    code = "provider_not_found"
    title = "Provider not found"
