"""Errors of the template media API."""

from photochanger.core.errors import PhotoChangerError


class TemplateMediaNotFound(PhotoChangerError):
    status_code = 404
    code = "template_media_not_found"
    title = "Template media not found"


class TemplateMediaInUse(PhotoChangerError):
    status_code = 409
    code = "template_media_in_use"
    title = "Template media is in use"


class InvalidTemplateImage(PhotoChangerError):
    status_code = 422
    code = "invalid_image"
    title = "Invalid image"


class UnsupportedTemplateType(PhotoChangerError):
    status_code = 415
    code = "unsupported_media_type"
    title = "Unsupported image type"
