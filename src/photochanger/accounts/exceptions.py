"""Errors of the provider-key API."""

from photochanger.core.errors import PhotoChangerError


class ProviderKeyNotFound(PhotoChangerError):
    status_code = 404
    code = "provider_key_not_found"
    title = "Provider key not found"


class ProviderTakesNoKey(PhotoChangerError):
    status_code = 422
    code = "provider_takes_no_key"
    title = "This provider takes no API key"
