"""Errors of the events API."""

from photochanger.core.errors import PhotoChangerError


class EventNotFound(PhotoChangerError):
    status_code = 404
    code = "event_not_found"
    title = "Event not found"


class EventPhotoNotFound(PhotoChangerError):
    status_code = 404
    code = "event_photo_not_found"
    title = "Photo not found in this event"


class SlotInOpenEvent(PhotoChangerError):
    """A slot may belong to one open event at a time; `extra.slots` names the slots and their event."""

    status_code = 409
    code = "slot_in_open_event"
    title = "Slot already used by an open event"


class EventClosed(PhotoChangerError):
    status_code = 409
    code = "event_closed"
    title = "The event is closed"


class EventValidationFailed(PhotoChangerError):
    """One entry in `errors` per bad field (`slots.0.slot_id`, `logo_media_id`, `ends_at`)."""

    status_code = 422
    code = "validation_error"
    title = "Validation failed"
