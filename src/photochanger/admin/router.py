"""`/admin/*`: the server-rendered admin UI. Every page calls the same services as the JSON API; domain
errors are rendered as HTML; the session rides on the auth layer's HttpOnly cookies, and every form
carries the double-submit CSRF token."""

import logging
import math
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import SecretStr, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.background import BackgroundTask
from starlette.datastructures import FormData, UploadFile
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from photochanger.admin import audit_text, charts, forms, live, testrun
from photochanger.admin.rendering import (
    CSRF_FIELD,
    check_csrf_field,
    error_message,
    error_page,
    field_message,
    render,
    translator,
)
from photochanger.admin.uploads import Replay, discard, read_form_upload
from photochanger.audit import service as audit_service
from photochanger.auth import access, permissions
from photochanger.auth.cookies import clear_session_cookies, set_session_cookies
from photochanger.auth.dependencies import ACCESS_COOKIE, CSRF_COOKIE, CodecDep, Principal
from photochanger.auth.exceptions import (
    CsrfFailed,
    InvalidToken,
    NotAuthenticated,
    PasswordChangeRequired,
    PermissionDenied,
)
from photochanger.auth.permissions import Role
from photochanger.auth.tokens import TokenCodec
from photochanger.config import AppConfig
from photochanger.core.db import SessionDep
from photochanger.core.errors import NotFound, PhotoChangerError, ValidationFailed
from photochanger.core.storage import MediaLayout, unlink_quietly
from photochanger.core.time import utcnow
from photochanger.guest import gallery as public_gallery
from photochanger.i18n import LANG_COOKIE, LANGUAGES, N_
from photochanger.media import service as media_service
from photochanger.media.exceptions import TemplateMediaInUse
from photochanger.onboarding import service as onboarding
from photochanger.problems import service as problems_service
from photochanger.providers.registry import ProviderRegistry
from photochanger.settings import service as settings_service
from photochanger.settings.schemas import RUNTIME_SETTING_KEYS, RuntimeSettings, SettingsUpdate
from photochanger.slots import branding
from photochanger.slots import service as slots_service
from photochanger.slots.exceptions import SlotValidationFailed, SlotVersionConflict
from photochanger.slots.schemas import OnFailure, OutputFormat, ProviderRead, SlotRead, SlotUpdate
from photochanger.stats import service as stats_service
from photochanger.users import service as auth_service
from photochanger.users.exceptions import (
    InvalidCredentials,
    TooManyLoginAttempts,
    WeakPassword,
    WrongPassword,
)
from photochanger.webhooks import service as webhooks_service

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = {
    "admin.css": "text/css; charset=utf-8",
    "admin.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
GALLERY_SIZE = 48
AUDIT_PAGE = 50
WEBHOOK_DELIVERIES = 20
STATS_REFUSALS = 20
FIRST_SIGN_IN_NOTICE = N_(
    "You signed in with the generated first password. Choose your own password to continue."
)
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
# Until the generated first password is replaced, only these pages open.
FIRST_PASSWORD_PATHS = ("/admin/account", "/admin/logout")


class AdminRoute(APIRoute):
    """Renders what the JSON API answers as problem+json as HTML instead: a missing or expired session
    goes to the login page (or the silent refresh page), any other domain error to an error page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def admin_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (NotAuthenticated, InvalidToken):
                return signed_out(request)
            except PasswordChangeRequired:
                return RedirectResponse("/admin/account", status_code=303)
            except PhotoChangerError as exc:
                return error_page(request, exc)
            except RequestValidationError:
                return error_page(request, ValidationFailed("The request has invalid fields."))

        return admin_handler

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A GET of a form's POST-only address (the language switch or a reload after a failed post)
        goes to the page the form belongs to instead of a bare 405."""
        if scope["method"] in ("GET", "HEAD") and self.methods and scope["method"] not in self.methods:
            target = _nearest_page(scope.get("app"), scope["path"])
            await RedirectResponse(target, status_code=303)(scope, receive, send)
            return
        await super().handle(scope, receive, send)


def _nearest_page(app: Any, path: str) -> str:
    """The closest ancestor of `path` that some route answers with a GET, else the dashboard."""
    routes = getattr(getattr(app, "router", None), "routes", [])
    candidate = path.rstrip("/")
    while "/" in candidate and candidate != "/admin":
        candidate = candidate.rsplit("/", 1)[0]
        probe: Scope = {"type": "http", "method": "GET", "path": candidate, "root_path": "", "headers": []}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            return candidate
    return "/admin"


router = APIRouter(prefix="/admin", route_class=AdminRoute, include_in_schema=False)


def _safe_next(value: str | None) -> str:
    """Only local admin paths are followed after login or a language switch (no open redirect)."""
    if value and value.startswith("/admin") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin"


def signed_out(request: Request) -> Response:
    """No usable access cookie: GETs with a CSRF cookie left (a session that may still refresh) get a page
    that refreshes through `/api/auth/refresh` and reloads; everything else goes to the login page."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method == "GET" and request.cookies.get(CSRF_COOKIE):
        return render(request, "refresh.html", 401, next=_safe_next(target))
    return RedirectResponse(f"/admin/login?next={quote(_safe_next(target))}", status_code=303)


async def get_admin(request: Request, session: SessionDep, codec: CodecDep) -> Principal:
    """The signed-in user from the HttpOnly access cookie (forms check CSRF themselves)."""
    token = request.cookies.get(ACCESS_COOKIE)
    if not token:
        raise NotAuthenticated()
    user = await access.authenticate_access(session, codec, token)
    principal = Principal.from_user(user, via_cookie=True)
    request.state.admin_principal = principal
    if user.must_change_password and not request.url.path.startswith(FIRST_PASSWORD_PATHS):
        raise PasswordChangeRequired()
    return principal


AdminDep = Annotated[Principal, Depends(get_admin)]


def need(principal: Principal, permission: str) -> None:
    if not principal.has(permission):
        raise PermissionDenied(f"This needs the `{permission}` permission.")


async def csrf_form(request: Request) -> FormData:
    form = await request.form()
    check_csrf_field(request, form.get(CSRF_FIELD))
    return form


def _config(request: Request) -> AppConfig:
    config: AppConfig = request.app.state.config
    return config


def _registry(request: Request) -> ProviderRegistry:
    registry: ProviderRegistry = request.app.state.providers
    return registry


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# --- static files, language ---------------------------------------------------------------------------


@router.get("/static/{name}")
async def get_static(name: str) -> Response:
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise NotFound("No such file.")
    return FileResponse(
        STATIC_DIR / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/lang/{code}")
async def switch_language(code: str, next: str | None = None) -> Response:
    response = _redirect(_safe_next(next))
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=LANG_COOKIE_MAX_AGE, path="/", samesite="lax")
    return response


# --- login, logout ---------------------------------------------------------------------------------------


@router.get("/login")
async def login_page(
    request: Request, session: SessionDep, codec: CodecDep, next: str | None = None, bye: bool = False
) -> Response:
    if await _signed_in(request, session, codec):
        return _redirect(_safe_next(next))
    t = translator(request)
    return render(
        request,
        "login.html",
        next=_safe_next(next),
        notice=t.gettext("You have been signed out.") if bye else None,
        error=None,
        username="",
    )


async def _signed_in(request: Request, session: AsyncSession, codec: Any) -> bool:
    token = request.cookies.get(ACCESS_COOKIE)
    if not token:
        return False
    try:
        await access.authenticate_access(session, codec, token)
    except (InvalidToken, NotAuthenticated):
        return False
    return True


@router.post("/login")
async def login(request: Request, session: SessionDep, codec: CodecDep) -> Response:
    form = await request.form()
    t = translator(request)
    username = _text(form, "username")
    target = _safe_next(_text(form, "next"))
    try:
        check_csrf_field(request, form.get(CSRF_FIELD))
    except CsrfFailed:
        return render(
            request,
            "login.html",
            403,
            next=target,
            error=t.gettext("The form expired. Please try again."),
            username=username,
        )
    try:
        issued = await auth_service.login(
            session,
            codec,
            username=username[:64],
            password=_text(form, "password")[:1024],
            client=request.client.host if request.client else "unknown",
        )
    except InvalidCredentials:
        return render(
            request,
            "login.html",
            401,
            next=target,
            error=t.gettext("Wrong username or password."),
            username=username,
        )
    except TooManyLoginAttempts as exc:
        seconds = int(exc.extra.get("retry_after", 60))
        page = render(
            request,
            "login.html",
            429,
            next=target,
            error=t.gettext(
                "Too many failed attempts. Try again in %(minutes)s min.",
                minutes=max(1, math.ceil(seconds / 60)),
            ),
            username=username,
        )
        page.headers["Retry-After"] = str(seconds)
        return page
    response = _redirect(target)
    set_session_cookies(request, response, issued)
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, codec: CodecDep) -> Response:
    await csrf_form(request)
    token = request.cookies.get(ACCESS_COOKIE)
    if token:
        await auth_service.logout_access(session, codec, token)
    response = _redirect("/admin/login?bye=1")
    clear_session_cookies(request, response)
    return response


# --- dashboard and live updates -----------------------------------------------------------------------


def _catalogue_titles(request: Request) -> dict[tuple[str, str], str]:
    t = translator(request)
    titles: dict[tuple[str, str], str] = {}
    for provider in slots_service.catalogue(_registry(request)):
        for op in provider.operations:
            titles[(provider.id, op.id)] = f"{t.gettext(provider.title)} · {t.gettext(op.title)}"
    return titles


BULK_DONE = {
    "enable": N_("Slots switched on: %(count)s."),
    "disable": N_("Slots switched off: %(count)s."),
    "copy": N_("Settings copied to slots: %(count)s."),
}


@router.get("")
async def dashboard(
    request: Request,
    principal: AdminDep,
    session: SessionDep,
    done: str | None = None,
    count: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> Response:
    need(principal, permissions.SLOTS_READ)
    keyed = await request.app.state.keys.keyed_providers()
    cards = await live.dashboard_state(session, _config(request), _registry(request), keyed)
    setup = await onboarding.progress(session)
    banner = translator(request).gettext(BULK_DONE[done], count=count) if done in BULK_DONE else None
    extras = await provider_pages.dashboard_context(request, session)
    return render(
        request,
        "dashboard.html",
        cards=cards,
        titles=_catalogue_titles(request),
        setup=setup,
        banner=banner,
        banner_kind="ok",
        **extras,
    )


@router.get("/")
async def dashboard_slash() -> Response:
    return _redirect("/admin")


def _session_key(request: Request, codec: TokenCodec, principal: Principal) -> str:
    """The sign-in session (refresh family) of the request's access cookie, for the per-session stream cap."""
    try:
        return codec.decode_access(request.cookies.get(ACCESS_COOKIE, ""), now=utcnow()).family_id
    except InvalidToken:  # expired a moment after it was checked: the user's own budget then
        return f"user:{principal.user_id}"


@router.get("/events")
async def events(request: Request, principal: AdminDep, codec: CodecDep, slot: str | None = None) -> Response:
    """Server-Sent Events: the dashboard's (or one slot gallery's) state whenever it changes, for results
    finished by any worker on any node (PostgreSQL notifications; polling on SQLite). Each stream ends after
    a while and the browser reconnects by itself; a session holds at most `max_streams_per_session`."""
    config, providers = _config(request), _registry(request)
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    if slot is None:
        need(principal, permissions.SLOTS_READ)

        keys = request.app.state.keys

        async def build(session: AsyncSession) -> Any:
            return await live.dashboard_state(session, config, providers, await keys.keyed_providers())

    else:
        need(principal, permissions.RESULTS_READ)
        slot_id = slot

        async def build(session: AsyncSession) -> Any:
            return await live.gallery_state(session, config, slot_id, limit=GALLERY_SIZE)

    ticket = request.app.state.streams.open(_session_key(request, codec, principal))
    return StreamingResponse(
        live.ticketed(
            ticket, live.stream(sessionmaker, build, listener=request.app.state.listener, slot_id=slot)
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# --- slot editor -------------------------------------------------------------------------------------


def _pick(
    catalogue: list[ProviderRead], provider_id: str, operation_id: str
) -> tuple[ProviderRead | None, Any]:
    provider = next((p for p in catalogue if p.id == provider_id), None)
    if provider is None:
        return None, None
    op = next((o for o in provider.operations if o.id == operation_id), None)
    return provider, op or (provider.operations[0] if provider.operations else None)


async def _editor(
    request: Request,
    session: SessionDep,
    slot: SlotRead,
    *,
    provider_id: str,
    operation_id: str,
    params: dict[str, Any],
    top: dict[str, Any],
    errors: dict[str, dict[str, str]] | None = None,
    banner: str | None = None,
    banner_kind: str = "error",
    status_code: int = 200,
    conflict: bool = False,
    **extra: Any,
) -> Response:
    catalogue = slots_service.catalogue(_registry(request), await request.app.state.keys.keyed_providers())
    provider, op = _pick(catalogue, provider_id, operation_id)
    errors = errors or {"params": {}, "": {}}
    param_errors = {k: field_message(request, v) for k, v in errors["params"].items()}
    top_errors = {k: field_message(request, v) for k, v in errors[""].items()}
    fields = forms.build_fields(op.params_schema, params, param_errors) if op else []
    media = await media_service.list_media(session, _registry(request))
    deliveries = await webhooks_service.list_deliveries(session, slot.id, limit=WEBHOOK_DELIVERIES)
    others = [(s.id, s.display_name) for s in await slots_service.list_slots(session, _config(request))]
    return render(
        request,
        "slot_edit.html",
        status_code,
        slot=slot,
        catalogue=catalogue,
        provider=provider,
        operation=op,
        fields=fields,
        media=media,
        top=top,
        top_errors=top_errors,
        banner=banner,
        banner_kind=banner_kind,
        output_formats=[f.value for f in OutputFormat],
        on_failures=[f.value for f in OnFailure],
        conflict=conflict,
        deliveries=deliveries,
        deliveries_limit=WEBHOOK_DELIVERIES,
        brand=await branding.get(session, slot.id),
        other_slots=[(i, name) for i, name in others if i != slot.id],
        last_shot=await last_shot.describe(request, session, slot.id),
        **extra,
    )


def _top_values(slot: SlotRead) -> dict[str, Any]:
    return {
        "display_name": slot.display_name,
        "is_active": slot.is_active,
        "size_limit_mb": "" if slot.size_limit_mb is None else str(slot.size_limit_mb),
        "output_format": slot.output_format.value,
        "on_failure": slot.on_failure.value,
        "webhook_url": slot.webhook_url or "",
        "version": slot.version,
    }


def _top_from_form(form: FormData) -> dict[str, Any]:
    """The slot editor's non-parameter fields as submitted, for the page to show them again."""
    return {
        "display_name": _text(form, "display_name"),
        "is_active": form.get("is_active") == "on",
        "size_limit_mb": _text(form, "size_limit_mb").strip(),
        "output_format": _text(form, "output_format") or OutputFormat.jpeg.value,
        "on_failure": _text(form, "on_failure") or None,
        "webhook_url": "" if form.get("webhook_remove") == "on" else _text(form, "webhook_url").strip(),
        "version": _text(form, "version"),
    }


KEPT_FIELDS = ("display_name", "is_active", "size_limit_mb", "output_format", "on_failure", "webhook_url")


def _kept_edits(request: Request, top: dict[str, Any]) -> dict[str, Any]:
    """The editor's typed values carried over a provider or operation switch (`kept=1` plus the fields,
    sent by the picker), shown again instead of the saved ones; the version stays the one read."""
    if request.query_params.get("kept") != "1":
        return top
    items: list[tuple[str, str | UploadFile]] = list(request.query_params.multi_items())
    typed = _top_from_form(FormData(items))
    return {**top, **{name: typed[name] for name in KEPT_FIELDS}}


def _webhook_update(form: FormData) -> dict[str, str]:
    """The webhook part of a slot update: the checkbox or an empty URL clears it (`""`); an empty secret
    field is left out so the stored secret is kept (the page never shows it). A form without the webhook
    fields (an older page) keeps the webhook as it is."""
    if "webhook_url" not in form and "webhook_remove" not in form:
        return {}
    url = _text(form, "webhook_url").strip()
    if form.get("webhook_remove") == "on" or not url:
        return {"webhook_url": ""}
    secret = _text(form, "webhook_secret")
    return {"webhook_url": url, "webhook_secret": secret} if secret else {"webhook_url": url}


@router.get("/slots/{slot_id}")
async def edit_slot(
    slot_id: str,
    request: Request,
    principal: AdminDep,
    session: SessionDep,
    provider: Annotated[str | None, Query(max_length=40)] = None,
    operation: Annotated[str | None, Query(max_length=60)] = None,
    saved: bool = False,
) -> Response:
    need(principal, permissions.SLOTS_READ)
    slot = await slots_service.get_slot(session, _config(request), slot_id, limit=1)
    provider_id = provider or slot.provider
    operation_id = operation or (slot.operation if provider_id == slot.provider else "")
    same = provider_id == slot.provider and operation_id == slot.operation
    catalogue = slots_service.catalogue(_registry(request))
    _, op = _pick(catalogue, provider_id, operation_id)
    banner = translator(request).gettext("Saved.") if saved else None
    # The provider's notes on the saved configuration (e.g. slower than the booth waits) stay visible.
    notes = await slots_service.saved_configuration_notes(session, _config(request), _registry(request), slot)
    if same and notes:
        banner = " ".join([*([banner] if banner else []), *notes])
    return await _editor(
        request,
        session,
        slot,
        provider_id=provider_id,
        operation_id=op.id if op else operation_id,
        params=slot.params if same else {},
        top=_kept_edits(request, _top_values(slot)),
        banner=banner,
        banner_kind="info" if same and notes else "ok",
    )


@router.post("/slots/{slot_id}")
async def save_slot(slot_id: str, request: Request, principal: AdminDep, session: SessionDep) -> Response:
    need(principal, permissions.SLOTS_WRITE)
    form = await csrf_form(request)
    t = translator(request)
    config = _config(request)
    slot = await slots_service.get_slot(session, config, slot_id, limit=1)
    provider_id, operation_id = _text(form, "provider"), _text(form, "operation")
    catalogue = slots_service.catalogue(_registry(request))
    _, op = _pick(catalogue, provider_id, operation_id)
    schema = op.params_schema if op and op.id == operation_id else {}
    params = forms.parse_params(schema, form) if schema else {}
    top = _top_from_form(form)

    async def again(errors: Any, banner: str, status_code: int, *, conflict: bool = False) -> Response:
        await session.rollback()
        fresh = await slots_service.get_slot(session, config, slot_id, limit=1)
        return await _editor(
            request,
            session,
            fresh,
            provider_id=provider_id,
            operation_id=operation_id,
            params=params,
            top=top,
            errors=errors,
            banner=banner,
            status_code=status_code,
            conflict=conflict,
        )

    try:
        body = SlotUpdate.model_validate(
            {
                # `top` holds the URL as typed for the page; what is sent comes from `_webhook_update`.
                **{key: value for key, value in top.items() if key != "webhook_url"},
                "provider": provider_id,
                "operation": operation_id,
                "size_limit_mb": top["size_limit_mb"] or None,
                "params": params,
                **_webhook_update(form),
            }
        )
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]), "type": err["type"], "msg": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        return await again(forms.field_errors(errors), t.gettext("Some fields need attention."), 422)
    try:
        await slots_service.update_slot(session, config, _registry(request), slot.id, body, actor=principal)
    except SlotValidationFailed as exc:
        return await again(forms.field_errors(exc.errors), t.gettext("Some fields need attention."), 422)
    except SlotVersionConflict:
        await session.rollback()
        current = await slots_service.get_slot(session, config, slot_id, limit=1)
        return await again(
            None,
            t.gettext(
                "Someone else changed this slot while you were editing it (now version %(version)s). Your changes were not saved: reload the slot and apply them again.",
                version=current.version,
            ),
            409,
            conflict=True,
        )
    return _redirect(f"/admin/slots/{slot.id}?saved=1")


# --- test runs -----------------------------------------------------------------------------------------


@router.get("/slots/{slot_id}/test")
async def test_page(slot_id: str, request: Request, principal: AdminDep, session: SessionDep) -> Response:
    need(principal, permissions.SLOTS_TEST)
    slot = await slots_service.get_slot(session, _config(request), slot_id, limit=1)
    return render(request, "slot_test.html", slot=slot, outcome=None, titles=_catalogue_titles(request))


@router.post("/slots/{slot_id}/test")
async def run_test(slot_id: str, request: Request, principal: AdminDep, session: SessionDep) -> Response:
    """Like `POST /api/slots/{id}/test-run` with the saved settings: the photo runs through the real
    ingest pipeline as a `ui_test` job; the page shows original and result side by side."""
    arrived_at = time.monotonic()
    need(principal, permissions.SLOTS_TEST)
    config = _config(request)
    slot = await slots_service.get_slot(session, config, slot_id, limit=1)
    runtime = await settings_service.load(session)
    # Release this request's connection: the provider call below must not hold one.
    await session.commit()
    parsed = await read_form_upload(request, cap_mb=runtime.upload_max_mb, purpose="test")
    try:
        outcome = await testrun.run(request, parsed, slot.id, arrived_at)
    finally:
        await discard(parsed.path)
    return render(
        request,
        "slot_test.html",
        200 if outcome.get("ok") else 422,
        slot=slot,
        outcome=outcome,
        titles=_catalogue_titles(request),
    )


@router.post("/slots/{slot_id}/branding")
async def update_branding(
    slot_id: str, request: Request, principal: AdminDep, session: SessionDep
) -> Response:
    """The guest page's branding of this slot (title, text, logo, colours); unchecked colours are cleared."""
    need(principal, permissions.SLOTS_WRITE)
    form = await csrf_form(request)
    colours = form.get("brand_colors") == "on"
    try:
        data = branding.BrandingUpdate(
            title=_text(form, "brand_title"),
            text=_text(form, "brand_text"),
            logo_media_id=_text(form, "brand_logo"),
            accent_color=_text(form, "brand_accent") if colours else "",
            background_color=_text(form, "brand_background") if colours else "",
        )
    except ValidationError as exc:
        raise ValidationFailed(
            "The branding has invalid fields.",
            errors=[
                {"field": ".".join(map(str, e["loc"])), "type": e["type"], "msg": e["msg"]}
                for e in exc.errors()
            ],
        ) from None
    await branding.update(session, slot_id, data, actor=principal)
    return _redirect(f"/admin/slots/{quote(slot_id)}?saved=1#branding")


# --- gallery -----------------------------------------------------------------------------------------------


@router.get("/slots/{slot_id}/gallery")
async def gallery(
    slot_id: str,
    request: Request,
    principal: AdminDep,
    session: SessionDep,
    nothing_to_download: bool = False,
    removed: bool = False,
) -> Response:
    need(principal, permissions.RESULTS_READ)
    config = _config(request)
    slot = await slots_service.get_slot(session, config, slot_id, limit=1)
    results = await live.gallery_state(session, config, slot_id, limit=GALLERY_SIZE)
    return render(
        request,
        "gallery.html",
        slot=slot,
        results=results["results"],
        titles=_catalogue_titles(request),
        public_until=await public_gallery.open_until(session, slot.id),
        public_link=None,
        failures=await problems_service.failed_jobs(session, slot.id, limit=GALLERY_SIZE),
        nothing_to_download=nothing_to_download,
        removed=removed,
    )


@router.post("/slots/{slot_id}/gallery/open")
async def open_public_gallery(
    slot_id: str, request: Request, principal: AdminDep, session: SessionDep
) -> Response:
    """Open the slot's public gallery for 15 minutes; the link is shown once, on this page."""
    need(principal, permissions.SLOTS_WRITE)
    await csrf_form(request)
    config = _config(request)
    opened = await public_gallery.open_gallery(session, slot_id, actor=principal)
    results = await live.gallery_state(session, config, opened.slot_id, limit=GALLERY_SIZE)
    slot = await slots_service.get_slot(session, config, opened.slot_id, limit=1)
    return render(
        request,
        "gallery.html",
        slot=slot,
        results=results["results"],
        titles=_catalogue_titles(request),
        public_until=opened.expires_at,
        public_link=config.absolute_url(opened.path),
    )


@router.post("/slots/{slot_id}/gallery/close")
async def close_public_gallery(
    slot_id: str, request: Request, principal: AdminDep, session: SessionDep
) -> Response:
    need(principal, permissions.SLOTS_WRITE)
    await csrf_form(request)
    await public_gallery.close_gallery(session, slot_id, actor=principal)
    return _redirect(f"/admin/slots/{quote(slot_id)}/gallery")


# --- template media ----------------------------------------------------------------------------------


async def _media_page(
    request: Request,
    session: SessionDep,
    *,
    banner: str | None = None,
    banner_kind: str = "ok",
    status_code: int = 200,
) -> Response:
    media = await media_service.list_media(session, _registry(request))
    return render(request, "media.html", status_code, media=media, banner=banner, banner_kind=banner_kind)


@router.get("/media")
async def media_library(
    request: Request, principal: AdminDep, session: SessionDep, done: str | None = None
) -> Response:
    need(principal, permissions.MEDIA_READ)
    t = translator(request)
    banner = {"uploaded": t.gettext("Uploaded."), "deleted": t.gettext("Deleted.")}.get(done or "")
    return await _media_page(request, session, banner=banner)


@router.post("/media")
async def upload_media(request: Request, principal: AdminDep, session: SessionDep) -> Response:
    need(principal, permissions.MEDIA_WRITE)
    config = _config(request)
    runtime = await settings_service.load(session)
    parsed = await read_form_upload(request, cap_mb=runtime.upload_max_mb, purpose="template")
    try:
        replay = Replay(parsed, {"name": parsed.fields.get("name", "")})
        try:
            await media_service.upload(
                session,
                layout=MediaLayout(config.media_root),
                body=replay.body(),
                content_type=replay.content_type,
                content_length=replay.content_length,
                owner=request.app.state.ingest.owner,
                max_pixels=config.max_image_pixels,
                min_free_mb=config.min_free_disk_mb,
                actor=principal,
            )
        except PhotoChangerError as exc:
            await session.rollback()
            return await _media_page(
                request,
                session,
                banner=error_message(request, exc),
                banner_kind="error",
                status_code=exc.status_code,
            )
    finally:
        await discard(parsed.path)
    return _redirect("/admin/media?done=uploaded")


@router.post("/media/{media_id}/delete")
async def delete_media(media_id: str, request: Request, principal: AdminDep, session: SessionDep) -> Response:
    need(principal, permissions.MEDIA_WRITE)
    await csrf_form(request)
    try:
        path = await media_service.delete(
            session, _registry(request), MediaLayout(_config(request).media_root), media_id, actor=principal
        )
    except TemplateMediaInUse as exc:
        await session.rollback()
        t = translator(request)
        used = ", ".join(exc.extra.get("used_by", []))
        banner = f"{t.gettext('Used by %(slots)s', slots=used)}. {t.gettext('Change these slots first.')}"
        return await _media_page(request, session, banner=banner, banner_kind="error", status_code=409)
    # The file goes only after the response, i.e. after the row's deletion has been committed.
    response = _redirect("/admin/media?done=deleted")
    response.background = BackgroundTask(unlink_quietly, path)
    return response


# --- settings --------------------------------------------------------------------------------------------


async def _settings_page(
    request: Request,
    session: SessionDep,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    ingest_error: str | None = None,
    banner: str | None = None,
    banner_kind: str = "ok",
    status_code: int = 200,
    **extra: Any,
) -> Response:
    current = await settings_service.read_all(session)
    return render(
        request,
        "settings.html",
        status_code,
        settings=current,
        keys=RUNTIME_SETTING_KEYS,
        values=values or {k: str(getattr(current, k).value) for k in RUNTIME_SETTING_KEYS},
        errors=errors or {},
        ingest_error=ingest_error,
        banner=banner,
        banner_kind=banner_kind,
        bounds=_bounds(),
        defaults={k: RuntimeSettings.model_fields[k].default for k in RUNTIME_SETTING_KEYS},
        **extra,
    )


def _bounds() -> dict[str, tuple[Any, Any]]:
    schema = RuntimeSettings.model_json_schema()["properties"]
    return {k: (schema[k].get("minimum"), schema[k].get("maximum")) for k in RUNTIME_SETTING_KEYS}


@router.get("/settings")
async def settings_page(
    request: Request, principal: AdminDep, session: SessionDep, done: str | None = None
) -> Response:
    need(principal, permissions.SETTINGS_READ)
    t = translator(request)
    banner = {"saved": t.gettext("Settings saved."), "rotated": t.gettext("Ingest password rotated.")}.get(
        done or ""
    )
    return await _settings_page(request, session, banner=banner)


@router.post("/settings")
async def save_settings(request: Request, principal: AdminDep, session: SessionDep) -> Response:
    need(principal, permissions.SETTINGS_WRITE)
    form = await csrf_form(request)
    t = translator(request)
    values = {key: _text(form, key).strip() for key in RUNTIME_SETTING_KEYS}
    errors: dict[str, str] = {}
    changes: dict[str, int] = {}
    for key, raw in values.items():
        if not raw.lstrip("-").isdigit():
            errors[key] = t.gettext("Enter a whole number.")
        else:
            changes[key] = int(raw)
    if not errors:
        try:
            await settings_service.apply_update(session, SettingsUpdate(**changes), actor=principal)
        except ValidationFailed as exc:
            for err in exc.errors or []:
                field = str(err.get("field", ""))
                errors.setdefault(
                    field, field_message(request, f"{err.get('type', '')}|{err.get('msg', '')}")
                )
    if errors:
        await session.rollback()
        return await _settings_page(
            request,
            session,
            values=values,
            errors=errors,
            banner=t.gettext("Some values are out of bounds."),
            banner_kind="error",
            status_code=422,
        )
    return _redirect("/admin/settings?done=saved")


@router.post("/settings/ingest-password")
async def rotate_ingest_password(request: Request, principal: AdminDep, session: SessionDep) -> Response:
    need(principal, permissions.SETTINGS_WRITE)
    form = await csrf_form(request)
    t = translator(request)
    new, repeat = _text(form, "new_password"), _text(form, "repeat_password")
    problem: str | None = None
    if new != repeat:
        problem = t.gettext("The two passwords differ.")
    elif form.get("confirm") != "on":
        problem = t.gettext("Please confirm the rotation.")
    else:
        try:
            body = SettingsUpdate(ingest_password=SecretStr(new))
        except ValidationError as exc:
            problem = str(exc.errors(include_url=False, include_input=False)[0]["msg"])
        else:
            await settings_service.apply_update(session, body, actor=principal)
    if problem is not None:
        return await _settings_page(request, session, ingest_error=problem, status_code=422)
    return _redirect("/admin/settings?done=rotated")


# --- stats -----------------------------------------------------------------------------------------------


@router.get("/stats")
async def stats_page(
    request: Request,
    principal: AdminDep,
    session: SessionDep,
    window: Annotated[str, Query(pattern="^(1h|24h|7d)$")] = "24h",
) -> Response:
    need(principal, permissions.STATS_READ)
    names = {s.id: s.display_name for s in await slots_service.list_slots(session, _config(request))}
    data = await charts.slot_stats(session, window=window, names=names)
    since = utcnow() - stats_service.parse_window(window)
    refusals = await problems_service.refusal_summary(session, since=since, limit=STATS_REFUSALS)
    usage = await provider_pages.usage_context(session, window)
    guests = await guest_stats.context(request, session, window)
    return render(
        request,
        "stats.html",
        window=window,
        windows=("1h", "24h", "7d"),
        refusals=refusals,
        slot_names=names,
        **data,
        **usage,
        **guests,
    )


# --- own account -----------------------------------------------------------------------------------------


async def _account_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    errors: dict[str, str] | None = None,
    banner: str | None = None,
    banner_kind: str = "ok",
    status_code: int = 200,
) -> Response:
    user = await auth_service.get_user(session, principal.user_id)
    return render(
        request,
        "account.html",
        status_code,
        user=user,
        errors=errors or {},
        banner=banner,
        banner_kind=banner_kind,
    )


@router.get("/account")
async def account_page(
    request: Request, principal: AdminDep, session: SessionDep, done: str | None = None
) -> Response:
    t = translator(request)
    banner = (
        t.gettext("Password changed. Your other sessions were signed out.") if done == "password" else None
    )
    user = await auth_service.get_user(session, principal.user_id)
    if user.must_change_password:
        return await _account_page(
            request, session, principal, banner=t.gettext(FIRST_SIGN_IN_NOTICE), banner_kind="info"
        )
    return await _account_page(request, session, principal, banner=banner)


@router.post("/account/password")
async def change_own_password(
    request: Request, principal: AdminDep, session: SessionDep, codec: CodecDep
) -> Response:
    """Like `POST /api/auth/change-password`: every session of the user is revoked, and this browser gets
    the fresh pair as cookies so it stays signed in."""
    form = await csrf_form(request)
    t = translator(request)
    current, new = _text(form, "current_password")[:1024], _text(form, "new_password")
    errors: dict[str, str] = {}
    if new != _text(form, "repeat_password"):
        errors["repeat_password"] = t.gettext("The two new passwords differ.")
    try:
        auth_service.check_new_password(new, field="new_password")
    except WeakPassword:
        errors["new_password"] = t.gettext("The new password must be 12 to 1024 characters long.")
    issued = None
    retry_after: int | None = None
    if not errors:
        try:
            user = await auth_service.get_user(session, principal.user_id)
            issued = await auth_service.change_password(
                session,
                codec,
                user,
                current_password=current,
                new_password=new,
                client=request.client.host if request.client else "unknown",
            )
        except WrongPassword:
            errors["current_password"] = t.gettext("The current password is wrong.")
        except TooManyLoginAttempts as exc:
            retry_after = int(exc.extra.get("retry_after", 60))
            minutes = max(1, math.ceil(retry_after / 60))
            errors["current_password"] = t.gettext(
                "Too many failed attempts. Try again in %(minutes)s min.", minutes=minutes
            )
    if issued is None:
        await session.rollback()
        status_code = 429 if retry_after else 403 if "current_password" in errors else 422
        page = await _account_page(
            request,
            session,
            principal,
            errors=errors,
            banner=t.gettext("The password was not changed."),
            banner_kind="error",
            status_code=status_code,
        )
        if retry_after:
            page.headers["Retry-After"] = str(retry_after)
        return page
    response = _redirect("/admin/account?done=password")
    set_session_cookies(request, response, issued)
    return response


# --- users and audit ------------------------------------------------------------------------------------


async def _users_page(
    request: Request,
    session: SessionDep,
    *,
    banner: str | None = None,
    banner_kind: str = "ok",
    status_code: int = 200,
    username: str = "",
) -> Response:
    users = await auth_service.list_users(session)
    return render(
        request,
        "users.html",
        status_code,
        users=users,
        roles=[r.value for r in Role],
        banner=banner,
        banner_kind=banner_kind,
        username=username,
    )


@router.get("/users")
async def users_page(
    request: Request, principal: AdminDep, session: SessionDep, done: str | None = None
) -> Response:
    need(principal, permissions.USERS_READ)
    t = translator(request)
    banner = {
        "created": t.gettext("User created."),
        "updated": t.gettext("User updated."),
        "deleted": t.gettext("User deleted."),
    }
    return await _users_page(request, session, banner=banner.get(done or ""))


@router.post("/users")
async def create_user(request: Request, principal: AdminDep, session: SessionDep) -> Response:
    need(principal, permissions.USERS_WRITE)
    form = await csrf_form(request)
    username = _text(form, "username")
    try:
        role = Role(_text(form, "role"))
        await auth_service.create_user(
            session, username=username, password=_text(form, "password"), role=role, actor=principal
        )
    except ValueError:
        return await _users_failure(request, session, ValidationFailed())
    except PhotoChangerError as exc:
        await session.rollback()
        return await _users_failure(request, session, exc, username=username)
    return _redirect("/admin/users?done=created")


async def _users_failure(
    request: Request, session: AsyncSession, exc: PhotoChangerError, **extra: Any
) -> Response:
    """The users page again, with the error as a banner and its status code."""
    return await _users_page(
        request,
        session,
        banner=error_message(request, exc),
        banner_kind="error",
        status_code=exc.status_code,
        **extra,
    )


@router.post("/users/{user_id}/{action}")
async def change_user(
    user_id: uuid.UUID, action: str, request: Request, principal: AdminDep, session: SessionDep
) -> Response:
    need(principal, permissions.USERS_WRITE)
    form = await csrf_form(request)
    try:
        if action == "delete":
            await auth_service.delete_user(session, user_id, actor=principal)
        elif action in ("enable", "disable"):
            await auth_service.set_active(session, user_id, action == "enable", actor=principal)
        elif action == "role":
            await auth_service.set_role(session, user_id, Role(_text(form, "role")), actor=principal)
        else:
            raise NotFound("No such user action.")
    except ValueError:
        return await _users_failure(request, session, ValidationFailed())
    except PhotoChangerError as exc:
        await session.rollback()
        return await _users_failure(request, session, exc)
    done = "deleted" if action == "delete" else "updated"
    return _redirect(f"/admin/users?done={done}")


@router.get("/audit")
async def audit_page(
    request: Request,
    principal: AdminDep,
    session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target: Annotated[str | None, Query(max_length=120)] = None,
) -> Response:
    need(principal, permissions.AUDIT_READ)
    rows, total = await audit_service.page(
        session, limit=AUDIT_PAGE, offset=offset, action=action or None, target=target or None
    )
    names = audit_text.Names(
        slots={s.id: s.display_name for s in await slots_service.list_slots(session, _config(request))},
        users={str(u.id): u.username for u in await auth_service.list_users(session)},
        media={m.id: m.name for m in await media_service.list_media(session, _registry(request))},
    )
    t = translator(request)
    entries = [
        {
            "created_at": row.created_at,
            "actor": row.actor,
            "action": row.action,
            "target": row.target,
            "sentence": audit_text.sentence(row, names, t),
        }
        for row in rows
    ]
    query = "&".join(f"{k}={quote(v)}" for k, v in (("action", action), ("target", target)) if v)
    return render(
        request,
        "audit.html",
        entries=entries,
        total=total,
        offset=offset,
        limit=AUDIT_PAGE,
        action=action or "",
        target=target or "",
        query=query,
    )


# Page modules build on the helpers above, so they are imported (and included) last.
from photochanger.admin.pages import (  # noqa: E402
    booths,
    bulk,
    duplicate,
    gallery_zip,
    guest_stats,
    hiding,
    ingest_password,
    last_shot,
    problems,
    removal,
    setup,
    signout,
    trial,
)
from photochanger.admin.pages import chain as chain_pages  # noqa: E402
from photochanger.admin.pages import events as event_pages  # noqa: E402
from photochanger.admin.pages import providers as provider_pages  # noqa: E402

router.include_router(event_pages.router)
router.include_router(problems.router)
router.include_router(booths.router)
router.include_router(signout.router)
router.include_router(ingest_password.router)
router.include_router(setup.router)
router.include_router(trial.router)
router.include_router(bulk.router)
router.include_router(gallery_zip.router)
router.include_router(removal.router)
router.include_router(hiding.router)
router.include_router(duplicate.router)
router.include_router(last_shot.router)
router.include_router(provider_pages.router)
router.include_router(chain_pages.router)
