"""Errors of the auth layer: missing or invalid credentials on a request, permissions, CSRF."""

from photochanger.core.errors import PhotoChangerError

_BEARER = {"WWW-Authenticate": 'Bearer realm="photochanger"'}


class NotAuthenticated(PhotoChangerError):
    status_code = 401
    code = "not_authenticated"
    title = "Authentication required"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers=_BEARER)


class PasswordChangeRequired(PhotoChangerError):
    status_code = 403
    code = "password_change_required"
    title = "Choose a new password first"


class InvalidToken(PhotoChangerError):
    status_code = 401
    code = "invalid_token"
    title = "Invalid or expired token"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers=_BEARER)


class PermissionDenied(PhotoChangerError):
    status_code = 403
    code = "forbidden"
    title = "Permission denied"


class CsrfFailed(PhotoChangerError):
    status_code = 403
    code = "csrf_failed"
    title = "CSRF token missing or wrong"
