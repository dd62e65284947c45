"""Settings → Providers (`/admin/settings/providers`): add, replace, remove and check provider API keys.
Keys are write-only: a page shows the last four characters, who set the key and when, never the key."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.accounts import provider_settings
from photochanger.accounts import service as accounts_service
from photochanger.accounts.schemas import (
    KeyCheckRead,
    ProviderKeyCreate,
    ProviderKeyReplace,
    ProviderSettingsUpdate,
)
from photochanger.accounts.store import KeyStore
from photochanger.admin.deps import admin_requires, csrf_form
from photochanger.admin.rendering import done_banner, render, rerender, see_other, translator
from photochanger.admin.routing import AdminRoute
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.core.db import SessionDep
from photochanger.core.errors import ValidationFailed
from photochanger.core.time import utcnow
from photochanger.i18n import N_
from photochanger.providers.registry import ProviderRegistry
from photochanger.usage import service as usage_service

PAGE = "/admin/settings/providers"
DONE = {
    "added": N_("Key added."),
    "replaced": N_("Key replaced."),
    "removed": N_("Key removed."),
    "settings": N_("Provider settings saved."),
}

# Included under `/admin` by `admin.router`.
router: APIRouter = APIRouter(prefix="/settings/providers", route_class=AdminRoute, include_in_schema=False)


def _store(request: Request) -> KeyStore:
    store: KeyStore = request.app.state.keys
    return store


def _registry(request: Request) -> ProviderRegistry:
    registry: ProviderRegistry = request.app.state.providers
    return registry


async def _page(
    request: Request,
    session: AsyncSession,
    *,
    banner: str | None = None,
    banner_kind: str = "ok",
    errors: dict[str, str] | None = None,
    check: KeyCheckRead | None = None,
    status_code: int = 200,
) -> Response:
    accounts = await accounts_service.list_accounts(session, _registry(request))
    store = _store(request)
    resting = {key.id for a in accounts for key in a.keys if store.resting_until(key.id) is not None}
    settings = {s.provider: s for s in await provider_settings.list_settings(session, _registry(request))}
    return render(
        request,
        "providers.html",
        status_code,
        accounts=accounts,
        provider_settings=settings,
        resting=resting,
        banner=banner,
        banner_kind=banner_kind,
        errors=errors or {},
        check=check,
    )


def _problem(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    return str(first["msg"]).removeprefix("Value error, ")


@router.get("")
async def providers_page(
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SETTINGS_READ)],
    session: SessionDep,
    done: str | None = None,
) -> Response:
    return await _page(request, session, banner=done_banner(request, DONE, done))


@router.post("/keys")
async def add_key(
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SETTINGS_WRITE)],
    session: SessionDep,
) -> Response:
    form = await csrf_form(request)
    fields: dict[str, Any] = {name: form.get(name) for name in ProviderKeyCreate.model_fields}
    provider = str(fields.get("provider") or "")
    try:
        body = ProviderKeyCreate.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        t = translator(request)
        return await _page(
            request,
            session,
            banner=t.gettext("The key was not saved."),
            banner_kind="error",
            errors={provider: _problem(exc)},
            status_code=422,
        )
    await accounts_service.add_key(session, _registry(request), _store(request).box, body, actor=principal)
    _store(request).invalidate()
    return see_other(f"{PAGE}?done=added")


@router.post("/{provider_id}/settings")
async def save_provider_settings(
    provider_id: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SETTINGS_WRITE)],
    session: SessionDep,
) -> Response:
    form = await csrf_form(request)
    prices = {
        str(name)[len("price.") :]: value
        for name, value in form.multi_items()
        if str(name).startswith("price.") and isinstance(value, str) and value.strip()
    }
    fields = {
        "concurrency": (form.get("concurrency") or None),
        "default_model": (form.get("default_model") or None),
        "prices": prices,
    }
    t = translator(request)
    try:
        body = ProviderSettingsUpdate.model_validate(fields)
        await provider_settings.update_settings(
            session, _registry(request), provider_id, body, actor=principal
        )
    except ValidationError as exc:
        errors = {f"settings:{provider_id}": _problem(exc)}
    except ValidationFailed as exc:
        errors = {f"settings:{provider_id}": "; ".join(str(e.get("msg")) for e in exc.errors or [])}
    else:
        _store(request).invalidate()
        return see_other(f"{PAGE}?done=settings")
    return await rerender(
        session,
        _page,
        request,
        session,
        banner=t.gettext("The provider settings were not saved."),
        banner_kind="error",
        errors=errors,
        status_code=422,
    )


@router.post("/keys/{key_id}/replace")
async def replace_key(
    key_id: uuid.UUID,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SETTINGS_WRITE)],
    session: SessionDep,
) -> Response:
    form = await csrf_form(request)
    try:
        body = ProviderKeyReplace.model_validate({"api_key": form.get("api_key") or ""})
    except ValidationError as exc:
        t = translator(request)
        return await _page(
            request,
            session,
            banner=t.gettext("The key was not saved."),
            banner_kind="error",
            errors={str(key_id): _problem(exc)},
            status_code=422,
        )
    await accounts_service.replace_key(session, _store(request).box, key_id, body, actor=principal)
    _store(request).invalidate()
    return see_other(f"{PAGE}?done=replaced")


@router.post("/keys/{key_id}/delete")
async def remove_key(
    key_id: uuid.UUID,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SETTINGS_WRITE)],
    session: SessionDep,
) -> Response:
    await csrf_form(request)
    await accounts_service.remove_key(session, key_id, actor=principal)
    _store(request).invalidate()
    return see_other(f"{PAGE}?done=removed")


@router.post("/keys/{key_id}/check")
async def check_key(
    key_id: uuid.UUID,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SETTINGS_WRITE)],
    session: SessionDep,
) -> Response:
    await csrf_form(request)
    result = await accounts_service.check_key(session, _registry(request), _store(request).box, key_id)
    _store(request).invalidate()
    t = translator(request)
    banner = (
        t.gettext("Connection ok.")
        if result.ok
        else t.gettext("The provider answered: %(detail)s", detail=result.detail)
    )
    return await _page(
        request, session, banner=banner, banner_kind="ok" if result.ok else "error", check=result
    )


async def dashboard_context(request: Request, session: AsyncSession) -> dict[str, Any]:
    """What the dashboard shows about provider accounts: keys the providers refused (in red) and today's
    estimated spend."""
    accounts = await accounts_service.list_accounts(session, _registry(request))
    broken = accounts_service.broken_keys(accounts)
    return {
        "broken_keys": [f"{key.provider} …{key.last4}" for key in broken],
        "today_spend": await usage_service.today_cost(session, now=utcnow()),
    }


async def usage_context(session: AsyncSession, window: str) -> dict[str, Any]:
    """The stats page's usage table: whole UTC days covering `window` (today for 1h and 24h)."""
    days = 7 if window == "7d" else 1
    return {"usage": await usage_service.summary(session, days=days, now=utcnow())}
