"""Record and page through audit entries; every domain that changes admin state calls `record`."""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit.repository import AuditLogRepository
from photochanger.core.time import utcnow
from photochanger.models import AuditLog

REDACTED = "[redacted]"
SYSTEM_ACTOR = "system"
# Any key that names a secret is replaced wholesale, at any depth: values never reach the table.
_SECRET_KEY = re.compile(r"password|secret|token|api_?key|hash|credential|authorization", re.IGNORECASE)


class AuditActor(Protocol):
    """Anything with a user id and a username; `auth.dependencies.Principal` is one."""

    @property
    def user_id(self) -> uuid.UUID: ...

    @property
    def username(self) -> str: ...


@dataclass(frozen=True)
class ActorRef:
    """A plain `AuditActor` for callers that hold a user row rather than a principal."""

    user_id: uuid.UUID
    username: str


def redact(value: Any) -> Any:
    """A copy of `value` with every secret-looking key's value replaced by `[redacted]`."""
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED if _SECRET_KEY.search(str(key)) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


async def record(
    session: AsyncSession,
    actor: AuditActor | str | None,
    action: str,
    target: str,
    changes: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> AuditLog:
    """Add one audit entry to the session (flushed, not committed, so it lands with the change itself).

    `actor` is the authenticated principal, or a name such as `"cli"` for changes made outside HTTP
    (None means the server itself). `action` is a dotted verb (`settings.update`, `user.delete`,
    `slot.update`); `target` names the object (`settings`, `user:<id>`, `slot:slot-001`). `changes` is
    typically `{field: {"old": ..., "new": ...}}`; secret-looking keys are redacted here.
    """
    if actor is None or isinstance(actor, str):
        actor_id, actor_name = None, actor or SYSTEM_ACTOR
    else:
        actor_id, actor_name = actor.user_id, actor.username
    entry = AuditLog(
        created_at=now or utcnow(),
        actor_id=actor_id,
        actor=actor_name[:120],
        action=action[:64],
        target=target[:120],
        changes=redact(dict(changes or {})),
    )
    AuditLogRepository(session).add(entry)
    await session.flush()
    return entry


async def page(
    session: AsyncSession, *, limit: int, offset: int, action: str | None = None, target: str | None = None
) -> tuple[list[AuditLog], int]:
    """Newest first; returns the page and the total matching count."""
    rows, total = await AuditLogRepository(session).page(
        limit=limit, offset=offset, action=action, target=target
    )
    return list(rows), total


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`{key: {"old": ..., "new": ...}}` for the keys of `new` whose value differs from `old`."""
    return {key: {"old": old.get(key), "new": value} for key, value in new.items() if old.get(key) != value}
