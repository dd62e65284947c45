"""`/api/provider-keys`: provider API keys for admins. Keys are write-only: no answer ever carries one."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Request, Response

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
from photochanger.accounts.store import KeyStore
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal, requires
from photochanger.auth.exceptions import CsrfFailed, InvalidToken, NotAuthenticated, PermissionDenied
from photochanger.core.db import SessionDep
from photochanger.core.errors import ValidationFailed, problem_responses
from photochanger.slots.exceptions import ProviderNotFound

router = APIRouter(prefix="/api/provider-keys", tags=["provider keys"])
settings_router = APIRouter(prefix="/api/provider-settings", tags=["provider keys"])

_AUTH_ERRORS = (NotAuthenticated, InvalidToken, PermissionDenied, CsrfFailed)


def key_store(request: Request) -> KeyStore:
    store: KeyStore = request.app.state.keys
    return store


@router.get("", response_model=list[ProviderAccountRead], responses=problem_responses(*_AUTH_ERRORS))
async def list_provider_keys(
    request: Request,
    _principal: Annotated[Principal, requires(permissions.SETTINGS_READ)],
    session: SessionDep,
) -> list[ProviderAccountRead]:
    return await service.list_accounts(session, request.app.state.providers)


@router.post(
    "",
    status_code=201,
    response_model=ProviderKeyRead,
    responses=problem_responses(*_AUTH_ERRORS, ProviderNotFound, ProviderTakesNoKey, ValidationFailed),
)
async def add_provider_key(
    body: ProviderKeyCreate,
    request: Request,
    principal: Annotated[Principal, requires(permissions.SETTINGS_WRITE)],
    session: SessionDep,
) -> ProviderKeyRead:
    store = key_store(request)
    created = await service.add_key(session, request.app.state.providers, store.box, body, actor=principal)
    store.invalidate()
    return created


@router.put(
    "/{key_id}",
    response_model=ProviderKeyRead,
    responses=problem_responses(*_AUTH_ERRORS, ProviderKeyNotFound, ValidationFailed),
)
async def replace_provider_key(
    key_id: uuid.UUID,
    body: ProviderKeyReplace,
    request: Request,
    principal: Annotated[Principal, requires(permissions.SETTINGS_WRITE)],
    session: SessionDep,
) -> ProviderKeyRead:
    store = key_store(request)
    replaced = await service.replace_key(session, store.box, key_id, body, actor=principal)
    store.invalidate()
    return replaced


@router.delete("/{key_id}", status_code=204, responses=problem_responses(*_AUTH_ERRORS, ProviderKeyNotFound))
async def remove_provider_key(
    key_id: uuid.UUID,
    request: Request,
    principal: Annotated[Principal, requires(permissions.SETTINGS_WRITE)],
    session: SessionDep,
) -> Response:
    await service.remove_key(session, key_id, actor=principal)
    key_store(request).invalidate()
    return Response(status_code=204)


@router.post(
    "/{key_id}/check",
    response_model=KeyCheckRead,
    responses=problem_responses(*_AUTH_ERRORS, ProviderKeyNotFound),
)
async def check_provider_key(
    key_id: uuid.UUID,
    request: Request,
    _principal: Annotated[Principal, requires(permissions.SETTINGS_WRITE)],
    session: SessionDep,
) -> KeyCheckRead:
    """The provider's cheap authenticated call with this key: ok, or the provider's own error text (200
    either way: the outcome is data, not an error of this API)."""
    store = key_store(request)
    result = await service.check_key(session, request.app.state.providers, store.box, key_id)
    store.invalidate()
    return result


@settings_router.get(
    "", response_model=list[ProviderSettingsRead], responses=problem_responses(*_AUTH_ERRORS)
)
async def list_provider_settings(
    request: Request,
    _principal: Annotated[Principal, requires(permissions.SETTINGS_READ)],
    session: SessionDep,
) -> list[ProviderSettingsRead]:
    return await provider_settings.list_settings(session, request.app.state.providers)


@settings_router.put(
    "/{provider_id}",
    response_model=ProviderSettingsRead,
    responses=problem_responses(*_AUTH_ERRORS, ProviderNotFound, ValidationFailed),
)
async def update_provider_settings(
    provider_id: str,
    body: ProviderSettingsUpdate,
    request: Request,
    principal: Annotated[Principal, requires(permissions.SETTINGS_WRITE)],
    session: SessionDep,
) -> ProviderSettingsRead:
    """Concurrency (jobs in flight at once), default model and price per image by model for one provider;
    fields left out keep their value."""
    updated = await provider_settings.update_settings(
        session, request.app.state.providers, provider_id, body, actor=principal
    )
    key_store(request).invalidate()
    return updated
