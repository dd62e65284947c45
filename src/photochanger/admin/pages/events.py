"""`/admin/booth-events`: the events pages (list, create, also from an earlier event; edit, close, reopen,
delete; the private gallery with hide and delete; the public gallery switch, its QR code and a printable
table card; exports, disk usage and engagement). They call the events services; `/admin/events` is the
dashboard's live-update stream, hence the longer path."""

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.background import BackgroundTask
from starlette.datastructures import FormData

from photochanger.admin.deps import admin_requires, csrf_form
from photochanger.admin.rendering import error_message, render, translator
from photochanger.admin.routing import AdminRoute
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.config import AppConfig
from photochanger.core.db import SessionDep
from photochanger.core.errors import PhotoChangerError
from photochanger.core.storage import MediaLayout, unlink_quietly
from photochanger.eventpage.branding import Branding
from photochanger.events import engagement, photos
from photochanger.events import service as events_service
from photochanger.events.exceptions import EventNotFound, EventPhotoNotFound
from photochanger.events.schemas import EventCreate, EventRead, EventSlotIn, EventUpdate
from photochanger.media import service as media_service
from photochanger.models.slot import slot_ids

# Included into the admin router, whose prefix is `/admin`.
router: APIRouter = APIRouter(prefix="/booth-events", route_class=AdminRoute)
BASE = "/admin/booth-events"
GALLERY_PER_PAGE = 48
_LOCAL_INPUT = "%Y-%m-%dT%H:%M"


class EventForm(BaseModel):
    """The event form as submitted: `datetime-local` inputs are read as UTC (the form says so)."""

    model_config = ConfigDict(extra="ignore")

    name: Annotated[str, Field(min_length=1, max_length=120)]
    starts_at: datetime
    ends_at: datetime
    retention_days: Annotated[int, Field(ge=1, le=3650)]
    slots: list[str] = Field(default_factory=list)
    keep_originals: list[str] = Field(default_factory=list)
    title: Annotated[str, Field(max_length=120)] = ""
    logo_media_id: str = ""
    primary_color: str = "#222222"
    accent_color: str = "#d0463b"
    text: Annotated[str, Field(max_length=500)] = ""
    from_event_id: str = ""
    apply_slot_configs: bool = False

    @field_validator("starts_at", "ends_at", mode="after")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @classmethod
    def from_form(cls, form: FormData) -> "EventForm":
        lists = {"slots", "keep_originals"}
        data: dict[str, Any] = {k: form.getlist(k) if k in lists else form.get(k) for k in form}
        data["apply_slot_configs"] = form.get("apply_slot_configs") == "true"
        return cls.model_validate(data)

    def slots_in(self) -> list[EventSlotIn]:
        keep = set(self.keep_originals)
        return [EventSlotIn(slot_id=s, keep_originals=s in keep) for s in self.slots]

    def branding(self) -> Branding:
        return Branding(
            title=self.title,
            logo_media_id=self.logo_media_id or None,
            primary_color=self.primary_color,
            accent_color=self.accent_color,
            text=self.text,
        )

    def to_create(self) -> EventCreate:
        return EventCreate(
            name=self.name,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            retention_days=self.retention_days,
            slots=self.slots_in(),
            branding=self.branding(),
            from_event_id=self.from_event_id or None,
            apply_slot_configs=self.apply_slot_configs,
        )

    def to_update(self) -> EventUpdate:
        return EventUpdate(
            name=self.name,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            retention_days=self.retention_days,
            slots=self.slots_in(),
            branding=self.branding(),
        )


def _config(request: Request) -> AppConfig:
    config: AppConfig = request.app.state.config
    return config


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def local_input(value: datetime) -> str:
    return value.astimezone(UTC).strftime(_LOCAL_INPUT)


def _problem_text(request: Request, exc: Exception) -> str:
    t = translator(request)
    if isinstance(exc, PhotoChangerError):
        detail = error_message(request, exc)
        fields = [str(e.get("msg", "")) for e in exc.errors or []]
        slots = exc.extra.get("slots")
        if isinstance(slots, dict):
            fields.append(f"({', '.join(sorted(slots))})")
        return " ".join([detail, *fields])
    if isinstance(exc, ValidationError):
        names = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        return t.gettext("Check these fields: %(fields)s.", fields=", ".join(names))
    return str(exc)


async def _list_page(
    request: Request,
    session: SessionDep,
    *,
    banner: str | None = None,
    status_code: int = 200,
    form: Any = None,
) -> Response:
    config = _config(request)
    events = await events_service.list_events(session, config)
    media = await media_service.list_media(session, request.app.state.providers)
    now = datetime.now(UTC)
    return render(
        request,
        "events.html",
        status_code,
        events=events,
        media=media,
        slots=slot_ids(),
        taken={s.slot_id: e.name for e in events if e.status == "open" for s in e.slots},
        banner=banner,
        banner_kind="error",
        form=form,
        default_start=local_input(now),
        default_end=local_input(now.replace(hour=23, minute=59)),
    )


@router.get("")
async def list_events(
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.EVENTS_READ)],
    session: SessionDep,
) -> Response:
    return await _list_page(request, session)


@router.post("")
async def create_event(
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.EVENTS_WRITE)],
    session: SessionDep,
) -> Response:
    form = await csrf_form(request)
    try:
        body = EventForm.from_form(form).to_create()
        async with session.begin_nested():
            created = await events_service.create_event(
                session, _config(request), request.app.state.providers, body, actor=principal
            )
    except (PhotoChangerError, ValidationError) as exc:
        status = exc.status_code if isinstance(exc, PhotoChangerError) else 422
        return await _list_page(
            request, session, banner=_problem_text(request, exc), status_code=status, form=form
        )
    return _redirect(f"{BASE}/{created.id}")


async def _detail_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    event_id: str,
    *,
    page: int = 1,
    banner: str | None = None,
    banner_kind: str = "ok",
    status_code: int = 200,
) -> Response:
    config = _config(request)
    event = await events_service.read_event(session, config, event_id)
    orm = await events_service.get_event(session, event_id)
    gallery = await photos.photo_page(
        session,
        orm,
        public=False,
        base=f"/api/events/{event.id}/photos",
        page=page,
        per_page=GALLERY_PER_PAGE,
    )
    usage = await photos.usage(session, MediaLayout(config.media_root), event.id)
    media = await media_service.list_media(session, request.app.state.providers)
    others = await events_service.list_events(session, config)
    taken = {s.slot_id: e.name for e in others if e.status == "open" and e.id != event.id for s in e.slots}
    return render(
        request,
        "event_detail.html",
        status_code,
        event=event,
        chosen={s.slot_id: s.keep_originals for s in event.slots},
        slots=slot_ids(),
        taken=taken,
        media=media,
        gallery=gallery,
        pages=max(1, -(-gallery.total // GALLERY_PER_PAGE)),
        usage=usage,
        engagement=await engagement.report(session, event.id),
        starts=local_input(event.starts_at),
        ends=local_input(event.ends_at),
        banner=banner,
        banner_kind=banner_kind,
    )


@router.get("/{event_id}")
async def show_event(
    event_id: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.EVENTS_READ)],
    session: SessionDep,
    page: Annotated[int, Query(ge=1)] = 1,
    saved: bool = False,
) -> Response:
    banner = translator(request).gettext("Saved.") if saved else None
    return await _detail_page(request, session, principal, event_id, page=page, banner=banner)


@router.post("/{event_id}")
async def update_event(
    event_id: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.EVENTS_WRITE)],
    session: SessionDep,
) -> Response:
    form = await csrf_form(request)
    try:
        body = EventForm.from_form(form).to_update()
        async with session.begin_nested():
            await events_service.update_event(session, _config(request), event_id, body, actor=principal)
    except (PhotoChangerError, ValidationError) as exc:
        status = exc.status_code if isinstance(exc, PhotoChangerError) else 422
        if status == 404:
            raise
        text = _problem_text(request, exc)
        return await _detail_page(
            request, session, principal, event_id, banner=text, banner_kind="error", status_code=status
        )
    return _redirect(f"{BASE}/{quote(event_id)}?saved=1")


@router.post("/{event_id}/{action}")
async def event_action(
    event_id: str,
    action: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.EVENTS_WRITE)],
    session: SessionDep,
) -> Response:
    """close, reopen, gallery-open, gallery-close, delete."""
    await csrf_form(request)
    config = _config(request)
    try:
        async with session.begin_nested():
            if action == "close":
                await events_service.close_event(session, config, event_id, actor=principal)
            elif action == "reopen":
                await events_service.reopen_event(session, config, event_id, actor=principal)
            elif action in ("gallery-open", "gallery-close"):
                is_open = action == "gallery-open"
                await events_service.set_gallery(session, config, event_id, is_open=is_open, actor=principal)
            elif action == "delete":
                deleted = await events_service.delete_event(session, event_id, actor=principal)
                layout = MediaLayout(config.media_root)
                paths = [layout.resolve(p) for p in deleted.original_paths]
                return RedirectResponse(
                    BASE, status_code=303, background=BackgroundTask(unlink_quietly, *paths)
                )
            else:
                raise EventNotFound(f"No such action {action!r}.")
    except PhotoChangerError as exc:
        if exc.status_code == 404:
            raise
        return await _detail_page(
            request,
            session,
            principal,
            event_id,
            banner=_problem_text(request, exc),
            banner_kind="error",
            status_code=exc.status_code,
        )
    return _redirect(f"{BASE}/{quote(event_id)}")


@router.post("/{event_id}/photos/{job_id}/{action}")
async def photo_action(
    event_id: str,
    job_id: str,
    action: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.EVENTS_WRITE)],
    session: SessionDep,
) -> Response:
    """hide, show, delete one photo; back to the gallery page it was on."""
    form = await csrf_form(request)
    page = str(form.get("page") or "1")
    back = f"{BASE}/{quote(event_id)}?page={quote(page)}#photos"
    if action in ("hide", "show"):
        await photos.set_hidden(session, event_id, job_id, hidden=action == "hide", actor=principal)
        return _redirect(back)
    if action == "delete":
        layout = MediaLayout(_config(request).media_root)
        paths = await photos.delete_photo(session, layout, event_id, job_id, actor=principal)
        return RedirectResponse(back, status_code=303, background=BackgroundTask(unlink_quietly, *paths))
    raise EventPhotoNotFound(f"No such action {action!r}.")


@router.get("/{event_id}/card")
async def table_card(
    event_id: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.EVENTS_READ)],
    session: SessionDep,
) -> Response:
    """A printable card with the public gallery's QR code."""
    event: EventRead = await events_service.read_event(session, _config(request), event_id)
    return render(request, "event_card.html", event=event)
