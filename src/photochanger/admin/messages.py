"""What the admin shows for a refused request: a message per problem `code` and per field error type."""

from photochanger.i18n import N_

# Messages by problem `code`.
PROBLEM_MESSAGES: dict[str, str] = {
    "forbidden": N_("You do not have permission for this."),
    "csrf_failed": N_("The form expired. Reload the page and try again."),
    "slot_not_found": N_("There is no such slot."),
    "event_not_found": N_("There is no such event."),
    "provider_key_not_found": N_("This key no longer exists."),
    "event_photo_not_found": N_("This event has no such photo."),
    "slot_in_open_event": N_("A slot is already used by another open event."),
    "validation_error": N_("Some fields are invalid."),
    "weak_password": N_("Passwords are 12 to 1024 characters long."),
    "username_taken": N_("That username is already taken."),
    "cannot_modify_self": N_("You cannot delete, disable or demote yourself."),
    "last_admin": N_("The last active admin cannot be removed."),
    "wrong_password": N_("The current password is wrong."),
    "user_not_found": N_("There is no such user."),
    "template_media_in_use": N_("This template is in use."),
    "template_media_not_found": N_("There is no such template."),
    "invalid_image": N_("The image is unreadable or corrupt."),
    "unsupported_media_type": N_("Only JPEG, PNG and WebP images are accepted."),
    "payload_too_large": N_("The file is too large."),
    "invalid_request": N_("The upload is malformed or empty."),
    "slot_disabled": N_("The slot is disabled."),
    "busy": N_("The server is busy; try again shortly."),
    "timeout": N_("Processing took longer than T_sync_response."),
    "provider_error": N_("The provider failed."),
    "provider_refused": N_("The provider refused this photo."),
    "unavailable": N_("A service is unavailable right now."),
    "insufficient_storage": N_("The disk is almost full."),
    "invalid_password": N_("Wrong ingest password."),
    "provider_unavailable": N_("The provider is unavailable."),
    "interrupted": N_("Interrupted by a server restart."),
    "idempotency_conflict": N_("A different photo was sent under the same shot id."),
    "last_shot_missing": N_("This slot has had no booth shot recently: upload a photo to try instead."),
    "duplicate_onto_itself": N_("Choose another slot than the one being duplicated."),
    "result_not_found": N_("There is no such photo."),
}

# Messages by pydantic error type.
FIELD_MESSAGES: dict[str, str] = {
    "missing": N_("Required."),
    "frame_without_transparency": N_(
        "This template has no transparent area, so it would hide the whole photo. Choose a PNG frame with a "
        "transparent window."
    ),
    "string_too_short": N_("Required."),
    "greater_than_equal": N_("Too small."),
    "less_than_equal": N_("Too large."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "template_missing": N_("This template no longer exists."),
    "string_pattern_mismatch": N_("Wrong format."),
    "string_too_long": N_("Too long."),
    "invalid_webhook_url": N_(
        "Enter an http:// or https:// address with a host and no user name or password in it."
    ),
    "webhook_secret_required": N_(
        "A signing secret of at least 16 characters is required with a webhook URL."
    ),
}
