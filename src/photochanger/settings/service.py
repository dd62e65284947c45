"""Read and write runtime settings and the ingest password hash."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.audit.service import REDACTED, AuditActor
from photochanger.core.errors import ValidationFailed
from photochanger.core.passwords import hash_password
from photochanger.core.time import utcnow
from photochanger.models import AppSetting
from photochanger.settings.schemas import (
    INGEST_PASSWORD_KEY,
    RUNTIME_SETTING_KEYS,
    IngestPasswordRead,
    RuntimeSettings,
    SettingsRead,
    SettingsUpdate,
    SettingValueRead,
)


@dataclass(frozen=True)
class SettingMeta:
    updated_at: datetime | None
    updated_by: str | None


@dataclass(frozen=True)
class IngestPasswordState:
    password_hash: str | None
    updated_at: datetime | None
    updated_by: str | None

    @property
    def is_set(self) -> bool:
        return self.password_hash is not None


async def load(session: AsyncSession) -> RuntimeSettings:
    """Current runtime settings: stored values over defaults; a stored value that no longer validates is
    ignored in favour of the default rather than taking the server down."""
    rows = (
        await session.execute(select(AppSetting).where(AppSetting.key.in_(RUNTIME_SETTING_KEYS)))
    ).scalars()
    stored: dict[str, Any] = {row.key: row.value for row in rows}
    try:
        return RuntimeSettings.model_validate(stored)
    except ValidationError:
        defaults = RuntimeSettings()
        good: dict[str, Any] = {}
        for key, value in stored.items():
            try:
                RuntimeSettings.model_validate({**defaults.model_dump(), key: value})
            except ValidationError:
                continue
            good[key] = value
        return RuntimeSettings.model_validate(good)


async def load_meta(session: AsyncSession) -> dict[str, SettingMeta]:
    rows = (
        await session.execute(select(AppSetting).where(AppSetting.key.in_(RUNTIME_SETTING_KEYS)))
    ).scalars()
    found = {row.key: SettingMeta(row.updated_at, row.updated_by) for row in rows}
    return {key: found.get(key, SettingMeta(None, None)) for key in RUNTIME_SETTING_KEYS}


async def update(
    session: AsyncSession, changes: dict[str, Any], *, actor: str | None, now: datetime | None = None
) -> RuntimeSettings:
    """Validate and store `changes` (a partial mapping of runtime keys); flushes, does not commit."""
    current = await load(session)
    merged = RuntimeSettings.model_validate({**current.model_dump(), **changes})
    when = now or utcnow()
    for key in changes:
        await _upsert(session, key, getattr(merged, key), actor=actor, now=when)
    await session.flush()
    return merged


async def _upsert(session: AsyncSession, key: str, value: Any, *, actor: str | None, now: datetime) -> None:
    row = await session.get(AppSetting, key)
    if row is None:
        session.add(AppSetting(key=key, value=value, updated_at=now, updated_by=actor))
    else:
        row.value = value
        row.updated_at = now
        row.updated_by = actor


async def ingest_password_state(session: AsyncSession) -> IngestPasswordState:
    row = await session.get(AppSetting, INGEST_PASSWORD_KEY)
    if row is None or not isinstance(row.value, dict) or not row.value.get("hash"):
        return IngestPasswordState(None, None, None)
    return IngestPasswordState(str(row.value["hash"]), row.updated_at, row.updated_by)


async def set_ingest_password(
    session: AsyncSession, password: str, *, actor: str | None, now: datetime | None = None
) -> IngestPasswordState:
    """Store the argon2id hash of a new ingest password; the plaintext goes nowhere else. Flushes only."""
    password_hash = await hash_password(password)
    when = now or utcnow()
    await _upsert(session, INGEST_PASSWORD_KEY, {"hash": password_hash}, actor=actor, now=when)
    await session.flush()
    return IngestPasswordState(password_hash, when, actor)


def _field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    # Same shape as request validation errors; the submitted value is never echoed back.
    out: list[dict[str, Any]] = []
    for err in exc.errors():
        field = ".".join(str(part) for part in err.get("loc", ()))
        out.append(
            {"loc": ["body", field], "field": field, "msg": err.get("msg", ""), "type": err.get("type", "")}
        )
    return out


async def read_all(session: AsyncSession) -> SettingsRead:
    """Every runtime setting with its value and who changed it when; the ingest password as metadata only."""
    values = await load(session)
    meta = await load_meta(session)
    ingest = await ingest_password_state(session)
    fields: dict[str, Any] = {
        key: SettingValueRead(value=getattr(values, key), updated_at=m.updated_at, updated_by=m.updated_by)
        for key, m in meta.items()
    }
    return SettingsRead(
        **fields,
        ingest_password=IngestPasswordRead(
            set=ingest.is_set, updated_at=ingest.updated_at, updated_by=ingest.updated_by
        ),
    )


async def apply_update(
    session: AsyncSession,
    body: SettingsUpdate,
    *,
    actor: AuditActor | str | None,
    now: datetime | None = None,
) -> SettingsRead:
    """Validate and store a partial update, audit it (the ingest password redacted) and return the new state.

    Out-of-bounds values raise `ValidationFailed` (422) with one entry per field; nothing is stored then.
    A new ingest password is hashed and takes effect for the very next upload."""
    when = now or utcnow()
    changes = body.runtime_changes()
    actor_name = actor if isinstance(actor, str) or actor is None else actor.username
    before = await load(session)
    if changes:
        try:
            after = await update(session, changes, actor=actor_name, now=when)
        except ValidationError as exc:
            raise ValidationFailed("Some settings are out of bounds.", errors=_field_errors(exc)) from None
    else:
        after = before
    audited = audit_service.diff(before.model_dump(), {key: getattr(after, key) for key in changes})
    if body.ingest_password is not None:
        await set_ingest_password(
            session, body.ingest_password.get_secret_value(), actor=actor_name, now=when
        )
        audited[INGEST_PASSWORD_KEY] = {"old": REDACTED, "new": REDACTED}
    if audited:
        await audit_service.record(session, actor, "settings.update", "settings", audited, now=when)
    return await read_all(session)


async def init_ingest_password(
    session: AsyncSession, password: str, *, actor: str | None, now: datetime | None = None
) -> bool:
    """Store an ingest password only when none is stored yet (first start). Returns False when one exists.

    Two workers starting together may both get here; the loser's insert fails on the primary key at commit,
    which the caller treats as "someone else set it"."""
    if await session.get(AppSetting, INGEST_PASSWORD_KEY) is not None:
        return False
    when = now or utcnow()
    session.add(
        AppSetting(
            key=INGEST_PASSWORD_KEY,
            value={"hash": await hash_password(password)},
            updated_at=when,
            updated_by=actor,
        )
    )
    await session.flush()
    return True
