"""Roles and the permission strings they grant; the token's `permissions` claim is derived from here."""

from enum import StrEnum

SLOTS_READ = "slots:read"
SLOTS_WRITE = "slots:write"
SLOTS_TEST = "slots:test"
RESULTS_READ = "results:read"
STATS_READ = "stats:read"
SETTINGS_READ = "settings:read"
SETTINGS_WRITE = "settings:write"
USERS_READ = "users:read"
USERS_WRITE = "users:write"
MEDIA_READ = "media:read"
MEDIA_WRITE = "media:write"
AUDIT_READ = "audit:read"
EVENTS_READ = "events:read"
EVENTS_WRITE = "events:write"

ALL_PERMISSIONS: frozenset[str] = frozenset(
    {
        SLOTS_READ,
        SLOTS_WRITE,
        SLOTS_TEST,
        RESULTS_READ,
        STATS_READ,
        SETTINGS_READ,
        SETTINGS_WRITE,
        USERS_READ,
        USERS_WRITE,
        MEDIA_READ,
        MEDIA_WRITE,
        AUDIT_READ,
        EVENTS_READ,
        EVENTS_WRITE,
    }
)


class Role(StrEnum):
    admin = "admin"
    operator = "operator"


ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.admin: ALL_PERMISSIONS,
    Role.operator: frozenset({SLOTS_READ, SLOTS_TEST, RESULTS_READ, STATS_READ, MEDIA_READ}),
}


def permissions_for(role: str) -> frozenset[str]:
    """The permissions of `role`; an unknown role (a row from a newer version) grants nothing."""
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()
