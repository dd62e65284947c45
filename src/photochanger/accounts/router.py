"""`/api/provider-keys`: provider API keys for admins. Keys are write-only: no answer ever carries one."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Response

from photochanger.accounts import provider_settings, service
from photochanger.accounts.exceptions import ProviderKeyNotFound, ProviderTakesNoKey
from photochanger.accounts.schemas import (
    KeyCheckRead,
    ProviderAccountRead,
    ProviderKeyCreate,
    ProviderKeyRead,
    ProviderKeyReplace,
    ProviderSettingsRead,
    ProviderSettingsUpdate,
)
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal, requires
from photochanger.core.db import SessionDep
from photochanger.core.errors import ValidationFailed, problem_responses
from photochanger.deps import AUTH_ERRORS, KeyStoreDep, ProvidersDep
from photochanger.slots.exceptions import ProviderNotFound

router = APIRouter(prefix="/api/provider-keys", tags=["provider keys"])
settings_router = APIRouter(prefix="/api/provider-settings", tags=["provider keys"])

Reader = Annotated[Principal, requires(permissions.SETTINGS_READ)]
Writer = Annotated[Principal, requires(permissions.SETTINGS_WRITE)]


@router.get("", response_model=list[ProviderAccountRead], responses=problem_responses(*AUTH_ERRORS))
async def list_provider_keys(
    providers: ProvidersDep,
    _principal: Reader,
    session: SessionDep,
) -> list[ProviderAccountRead]:
    return await service.list_accounts(session, providers)


@router.post(
    "",
    status_code=201,
    response_model=ProviderKeyRead,
    responses=problem_responses(*AUTH_ERRORS, ProviderNotFound, ProviderTakesNoKey, ValidationFailed),
)
async def add_provider_key(
    body: ProviderKeyCreate,
    providers: ProvidersDep,
    store: KeyStoreDep,
    principal: Writer,
    session: SessionDep,
) -> ProviderKeyRead:
    created = await service.add_key(session, providers, store.box, body, actor=principal)
    store.invalidate()
    return created


@router.put(
    "/{key_id}",
    response_model=ProviderKeyRead,
    responses=problem_responses(*AUTH_ERRORS, ProviderKeyNotFound, ValidationFailed),
)
async def replace_provider_key(
    key_id: uuid.UUID,
    body: ProviderKeyReplace,
    store: KeyStoreDep,
    principal: Writer,
    session: SessionDep,
) -> ProviderKeyRead:
    replaced = await service.replace_key(session, store.box, key_id, body, actor=principal)
    store.invalidate()
    return replaced


@router.delete("/{key_id}", status_code=204, responses=problem_responses(*AUTH_ERRORS, ProviderKeyNotFound))
async def remove_provider_key(
    key_id: uuid.UUID,
    store: KeyStoreDep,
    principal: Writer,
    session: SessionDep,
) -> Response:
    await service.remove_key(session, key_id, actor=principal)
    store.invalidate()
    return Response(status_code=204)


@router.post(
    "/{key_id}/check",
    response_model=KeyCheckRead,
    responses=problem_responses(*AUTH_ERRORS, ProviderKeyNotFound),
)
async def check_provider_key(
    key_id: uuid.UUID,
    providers: ProvidersDep,
    store: KeyStoreDep,
    _principal: Writer,
    session: SessionDep,
) -> KeyCheckRead:
    """The provider's cheap authenticated call with this key: ok, or the provider's own error text (200
    either way: the outcome is data, not an error of this API)."""
    result = await service.check_key(session, providers, store.box, key_id)
    store.invalidate()
    return result


@settings_router.get("", response_model=list[ProviderSettingsRead], responses=problem_responses(*AUTH_ERRORS))
async def list_provider_settings(
    providers: ProvidersDep,
    _principal: Reader,
    session: SessionDep,
) -> list[ProviderSettingsRead]:
    return await provider_settings.list_settings(session, providers)


@settings_router.put(
    "/{provider_id}",
    response_model=ProviderSettingsRead,
    responses=problem_responses(*AUTH_ERRORS, ProviderNotFound, ValidationFailed),
)
async def update_provider_settings(
    provider_id: str,
    body: ProviderSettingsUpdate,
    providers: ProvidersDep,
    store: KeyStoreDep,
    principal: Writer,
    session: SessionDep,
) -> ProviderSettingsRead:
    """Concurrency (jobs in flight at once), default model and price per image by model for one provider;
    fields left out keep their value."""
    updated = await provider_settings.update_settings(session, providers, provider_id, body, actor=principal)
    store.invalidate()
    return updated
