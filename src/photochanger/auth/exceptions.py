"""Errors raised by authentication, authorization and user management."""

from photochanger.core.errors import PhotoChangerError

_BEARER = {"WWW-Authenticate": 'Bearer realm="photochanger"'}


class NotAuthenticated(PhotoChangerError):
    status_code = 401
    code = "not_authenticated"
    title = "Authentication required"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers=_BEARER)


class InvalidCredentials(PhotoChangerError):
    status_code = 401
    code = "invalid_credentials"
    title = "Invalid username or password"


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


class TooManyLoginAttempts(PhotoChangerError):
    status_code = 429
    code = "too_many_attempts"
    title = "Too many login attempts"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many failed logins; try again in {retry_after_seconds} seconds.",
            headers={"Retry-After": str(retry_after_seconds)},
            extra={"retry_after": retry_after_seconds},
        )


class PermissionDenied(PhotoChangerError):
    status_code = 403
    code = "forbidden"
    title = "Permission denied"


class CsrfFailed(PhotoChangerError):
    status_code = 403
    code = "csrf_failed"
    title = "CSRF token missing or wrong"


class WrongPassword(PhotoChangerError):
    status_code = 403
    code = "wrong_password"
    title = "The current password is wrong"


class WeakPassword(PhotoChangerError):
    status_code = 422
    code = "weak_password"
    title = "Password too weak"


class UserNotFound(PhotoChangerError):
    status_code = 404
    code = "user_not_found"
    title = "User not found"


class UsernameTaken(PhotoChangerError):
    status_code = 409
    code = "username_taken"
    title = "Username already taken"


class CannotDeleteSelf(PhotoChangerError):
    status_code = 409
    code = "cannot_modify_self"
    title = "You cannot delete, disable or demote yourself"


class LastAdmin(PhotoChangerError):
    status_code = 409
    code = "last_admin"
    title = "The last active admin cannot be removed"
