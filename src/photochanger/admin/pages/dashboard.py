"""The dashboard (`/admin`): a card per slot, the setup checklist, provider-key warnings, and
`/admin/events`, the Server-Sent Events stream that keeps the dashboard and a slot gallery live."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.admin import live
from photochanger.admin.deps import AdminDep, admin_requires, holding
from photochanger.admin.pages import providers as provider_pages
from photochanger.admin.rendering import render, see_other, translator
from photochanger.admin.routing import AdminRoute
from photochanger.admin.views import catalogue_titles
from photochanger.auth import permissions
from photochanger.auth.dependencies import ACCESS_COOKIE, CodecDep, Principal
from photochanger.auth.exceptions import InvalidToken
from photochanger.auth.tokens import TokenCodec
from photochanger.core.db import SessionDep
from photochanger.core.time import utcnow
from photochanger.deps import ConfigDep, KeyStoreDep, ProvidersDep, SessionmakerDep
from photochanger.i18n import N_
from photochanger.onboarding import service as onboarding

GALLERY_SIZE = 48
BULK_DONE = {
    "enable": N_("Slots switched on: %(count)s."),
    "disable": N_("Slots switched off: %(count)s."),
    "copy": N_("Settings copied to slots: %(count)s."),
}

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


@router.get("")
async def dashboard(
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SLOTS_READ)],
    session: SessionDep,
    config: ConfigDep,
    providers: ProvidersDep,
    keys: KeyStoreDep,
    done: str | None = None,
    count: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> Response:
    cards = await live.dashboard_state(session, config, providers, await keys.keyed_providers())
    banner = translator(request).gettext(BULK_DONE[done], count=count) if done in BULK_DONE else None
    return render(
        request,
        "dashboard.html",
        cards=cards,
        titles=catalogue_titles(request, providers),
        setup=await onboarding.progress(session),
        banner=banner,
        banner_kind="ok",
        **await provider_pages.dashboard_context(request, session),
    )


@router.get("/")
async def dashboard_slash() -> Response:
    return see_other("/admin")


def _session_key(request: Request, codec: TokenCodec, principal: Principal) -> str:
    """The sign-in session (refresh family) of the request's access cookie, for the per-session stream cap."""
    try:
        return codec.decode_access(request.cookies.get(ACCESS_COOKIE, ""), now=utcnow()).family_id
    except InvalidToken:  # expired a moment after it was checked: the user's own budget then
        return f"user:{principal.user_id}"


async def _watcher(principal: AdminDep, slot: str | None = None) -> Principal:
    """The stream's viewer: the dashboard needs `slots:read`, one slot's gallery `results:read`."""
    return holding(principal, permissions.SLOTS_READ if slot is None else permissions.RESULTS_READ)


@router.get("/events")
async def events(
    request: Request,
    principal: Annotated[Principal, Depends(_watcher)],
    codec: CodecDep,
    config: ConfigDep,
    providers: ProvidersDep,
    keys: KeyStoreDep,
    sessionmaker: SessionmakerDep,
    slot: str | None = None,
) -> Response:
    """Server-Sent Events: the dashboard's (or one slot gallery's) state whenever it changes, for results
    finished by any worker on any node (PostgreSQL notifications; polling on SQLite). Each stream ends after
    a while and the browser reconnects by itself; a session holds at most `max_streams_per_session`."""
    if slot is None:

        async def build(session: AsyncSession) -> Any:
            return await live.dashboard_state(session, config, providers, await keys.keyed_providers())

    else:
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
