"""Add, replace, remove and check provider keys; every change is in the audit log, no key ever leaves."""

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.accounts import repository
from photochanger.accounts.exceptions import ProviderKeyNotFound, ProviderTakesNoKey
from photochanger.accounts.schemas import (
    KeyCheckRead,
    ProviderAccountRead,
    ProviderKeyCreate,
    ProviderKeyRead,
    ProviderKeyReplace,
)
from photochanger.accounts.store import KeyStore
from photochanger.audit import service as audit_service
from photochanger.audit.service import AuditActor
from photochanger.core.crypto import SecretBox, SecretUnreadable
from photochanger.core.logging import register_secret
from photochanger.core.time import utcnow
from photochanger.models import KeyStatus, ProviderKey
from photochanger.providers.base import CONNECTION_CHECK_SECONDS, Deadline, Provider
from photochanger.providers.registry import ProviderRegistry, UnknownProvider
from photochanger.providers.remote import RemoteProvider
from photochanger.slots.exceptions import ProviderNotFound


def keyed_provider(registry: ProviderRegistry, provider_id: str) -> Provider:
    """The provider, if it is one that takes an API key (404 unknown, 422 keyless such as `local`)."""
    try:
        provider = registry.get(provider_id)
    except UnknownProvider:
        raise ProviderNotFound(f"There is no provider {provider_id!r}.") from None
    if not isinstance(provider, RemoteProvider):
        raise ProviderTakesNoKey(f"{provider.title} runs on this server and needs no API key.")
    return provider


def _read(row: ProviderKey) -> ProviderKeyRead:
    return ProviderKeyRead.model_validate(row, from_attributes=True)


async def list_accounts(session: AsyncSession, registry: ProviderRegistry) -> list[ProviderAccountRead]:
    """Every provider that takes a key, with its keys (last four characters only)."""
    rows = await repository.list_keys(session)
    by_provider: dict[str, list[ProviderKeyRead]] = {}
    for row in rows:
        by_provider.setdefault(row.provider, []).append(_read(row))
    return [
        ProviderAccountRead(
            provider=p.id, title=p.title, env_key=p.configured, keys=by_provider.get(p.id, [])
        )
        for p in registry
        if isinstance(p, RemoteProvider)
    ]


async def add_key(
    session: AsyncSession,
    registry: ProviderRegistry,
    box: SecretBox,
    body: ProviderKeyCreate,
    *,
    actor: AuditActor,
) -> ProviderKeyRead:
    keyed_provider(registry, body.provider)
    secret = body.api_key.get_secret_value()
    register_secret(secret)
    now = utcnow()
    key_id = uuid.uuid4()
    row = ProviderKey(
        id=key_id,
        provider=body.provider,
        label=body.label.strip(),
        ciphertext=box.encrypt(secret, context=str(key_id)),
        last4=secret[-4:],
        status=KeyStatus.ok,
        created_at=now,
        created_by=actor.username,
        updated_at=now,
        updated_by=actor.username,
    )
    session.add(row)
    await session.flush()
    await audit_service.record(
        session,
        actor,
        "provider_key.add",
        f"provider_key:{key_id}",
        {"provider": body.provider, "label": row.label, "last4": row.last4},
    )
    return _read(row)


async def _get(session: AsyncSession, key_id: uuid.UUID) -> ProviderKey:
    row = await repository.get(session, key_id)
    if row is None:
        raise ProviderKeyNotFound(f"There is no provider key {key_id}.")
    return row


async def replace_key(
    session: AsyncSession, box: SecretBox, key_id: uuid.UUID, body: ProviderKeyReplace, *, actor: AuditActor
) -> ProviderKeyRead:
    """A new secret for the key; a broken key is usable again (the check result is cleared)."""
    row = await _get(session, key_id)
    secret = body.api_key.get_secret_value()
    register_secret(secret)
    old = row.last4
    row.ciphertext = box.encrypt(secret, context=str(row.id))
    row.last4 = secret[-4:]
    row.status = KeyStatus.ok
    row.status_detail = None
    row.checked_at = row.check_ok = row.check_detail = None
    row.updated_at = utcnow()
    row.updated_by = actor.username
    await session.flush()
    await audit_service.record(
        session,
        actor,
        "provider_key.replace",
        f"provider_key:{row.id}",
        {"provider": row.provider, "last4": {"old": old, "new": row.last4}},
    )
    return _read(row)


async def remove_key(session: AsyncSession, key_id: uuid.UUID, *, actor: AuditActor) -> None:
    row = await _get(session, key_id)
    await session.delete(row)
    await session.flush()
    await audit_service.record(
        session,
        actor,
        "provider_key.remove",
        f"provider_key:{key_id}",
        {"provider": row.provider, "label": row.label, "last4": row.last4},
    )


async def check_key(
    session: AsyncSession, registry: ProviderRegistry, box: SecretBox, key_id: uuid.UUID
) -> KeyCheckRead:
    """The provider's cheap authenticated call with this key (at most `CONNECTION_CHECK_SECONDS`): ok, or the
    provider's own text. The outcome is stored on the key; a broken key that checks ok is usable again."""
    row = await _get(session, key_id)
    provider = keyed_provider(registry, row.provider)
    try:
        secret = box.decrypt(row.ciphertext, context=str(row.id))
    except SecretUnreadable:
        ok, detail, status = (
            False,
            "the key cannot be decrypted with this server's PHOTOCHANGER_SECRET_KEY",
            None,
        )
    else:
        check = await provider.check_connection(Deadline.after(CONNECTION_CHECK_SECONDS), api_key=secret)
        ok, detail, status = check.ok, check.detail, check.upstream_status
    row.checked_at = utcnow()
    row.check_ok = ok
    row.check_detail = detail[:500]
    if ok and row.status == KeyStatus.broken:
        row.status = KeyStatus.ok
        row.status_detail = None
        row.updated_at = row.checked_at
    await session.flush()
    return KeyCheckRead(key_id=row.id, provider=row.provider, ok=ok, detail=detail, upstream_status=status)


def store_of(store: KeyStore | None) -> KeyStore:
    if store is None:  # pragma: no cover - the lifespan builds it
        raise RuntimeError("the key store is not running")
    return store


def broken_keys(accounts: Sequence[ProviderAccountRead]) -> list[ProviderKeyRead]:
    return [key for account in accounts for key in account.keys if key.status == KeyStatus.broken]
