"""Events: create (also from an earlier one), edit, close, reopen and delete; slots held by one open event at
a time; the public gallery switch. Every change is audited; services flush, the request commits."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.audit.service import AuditActor
from photochanger.config import AppConfig
from photochanger.core.links import Links
from photochanger.core.time import utcnow
from photochanger.eventpage.branding import Branding, branding_of
from photochanger.events import reuse
from photochanger.events.exceptions import (
    EventNotFound,
    EventValidationFailed,
    SlotInOpenEvent,
)
from photochanger.events.repository import EventRepository
from photochanger.events.schemas import (
    EventCreate,
    EventRead,
    EventSlotIn,
    EventSlotRead,
    EventUpdate,
)
from photochanger.media import service as media_service
from photochanger.models import Event, EventSlot, Slot
from photochanger.providers.registry import ProviderRegistry

DEFAULT_RETENTION_DAYS = 30


@dataclass(frozen=True)
class Deleted:
    """What a deletion leaves for after the commit: the event's original shots to unlink."""

    original_paths: list[str]


def new_event_id() -> str:
    return secrets.token_hex(16)


def retain_until(ends_at: datetime, retention_days: int) -> datetime:
    return ends_at + timedelta(days=retention_days)


def status_of(event: Event, now: datetime) -> str:
    if event.retain_until < now:
        return "expired"
    return "closed" if event.closed_at is not None else "open"


def to_read(config: AppConfig, event: Event, slots: Sequence[EventSlot], now: datetime) -> EventRead:
    token = event.gallery_token
    return EventRead(
        id=event.id,
        name=event.name,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        retention_days=event.retention_days,
        retain_until=event.retain_until,
        status=status_of(event, now),
        closed_at=event.closed_at,
        branding=branding_of(event),
        slots=[EventSlotRead(slot_id=s.slot_id, keep_originals=s.keep_originals) for s in slots],
        gallery_open=event.gallery_open,
        gallery_url=config.absolute_url(Links.gallery(token)) if token else None,
        source_event_id=event.source_event_id,
        slot_configs=event.slot_configs or {},
        created_at=event.created_at,
        updated_at=event.updated_at,
        created_by=event.created_by,
    )


def _audit_view(event: Event, slots: Sequence[tuple[str, bool]]) -> dict[str, Any]:
    return {
        "name": event.name,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "retention_days": event.retention_days,
        "branding": branding_of(event).model_dump(),
        "slots": [{"slot_id": slot_id, "keep_originals": keep} for slot_id, keep in slots],
    }


async def get_event(session: AsyncSession, event_id: str) -> Event:
    event = await EventRepository(session).get(event_id)
    if event is None:
        raise EventNotFound(f"There is no event {event_id!r}.")
    return event


async def read_event(session: AsyncSession, config: AppConfig, event_id: str) -> EventRead:
    event = await get_event(session, event_id)
    slots = (await EventRepository(session).slots([event.id]))[event.id]
    return to_read(config, event, slots, utcnow())


async def list_events(session: AsyncSession, config: AppConfig) -> list[EventRead]:
    repo = EventRepository(session)
    events = await repo.all()
    slots = await repo.slots([e.id for e in events])
    now = utcnow()
    return [to_read(config, event, slots[event.id], now) for event in events]


async def _checked_slots(
    session: AsyncSession, slots: Sequence[EventSlotIn], *, event_id: str | None, is_open: bool
) -> list[tuple[str, bool]]:
    """The (slot id, keep originals) pairs, refused with 422 for unknown or repeated slots and with 409
    when an open event other than `event_id` holds one of them."""
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, item in enumerate(slots):
        if item.slot_id in seen:
            errors.append(_field(("slots", n, "slot_id"), "This slot is listed twice.", "duplicate"))
        elif await session.get(Slot, item.slot_id) is None:
            errors.append(_field(("slots", n, "slot_id"), f"There is no slot {item.slot_id!r}.", "not_found"))
        seen.add(item.slot_id)
    if errors:
        raise EventValidationFailed("The event's slots are invalid.", errors=errors)
    if is_open:
        await _refuse_taken(session, [s.slot_id for s in slots], event_id)
    return [(s.slot_id, s.keep_originals) for s in slots]


async def _refuse_taken(session: AsyncSession, slot_ids: Sequence[str], event_id: str | None) -> None:
    taken = await EventRepository(session).open_owners(slot_ids, except_event=event_id)
    if taken:
        names = ", ".join(sorted(taken))
        raise SlotInOpenEvent(
            f"Already used by another open event: {names}. Close that event or pick other slots.",
            extra={"slots": taken},
        )


def _field(loc: Sequence[str | int], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": kind}


async def _check_logo(session: AsyncSession, branding: Branding) -> None:
    if branding.logo_media_id is None:
        return
    if not await media_service.existing_ids(session, [branding.logo_media_id]):
        raise EventValidationFailed(
            "The logo must be one of the template media.",
            errors=[_field(("branding", "logo_media_id"), "No template media has this id.", "not_found")],
        )


def _apply_branding(event: Event, branding: Branding) -> None:
    event.title = branding.title
    event.logo_media_id = branding.logo_media_id
    event.primary_color = branding.primary_color.lower()
    event.accent_color = branding.accent_color.lower()
    event.text = branding.text


async def create_event(
    session: AsyncSession,
    config: AppConfig,
    registry: ProviderRegistry,
    body: EventCreate,
    *,
    actor: AuditActor,
    now: datetime | None = None,
) -> EventRead:
    """A new open event (flushed). With `from_event_id`, unset slots, branding and retention come from that
    event. Raises `EventNotFound` (the source), `EventValidationFailed` (422), `SlotInOpenEvent` (409), and
    the slot service's errors when `apply_slot_configs` writes a configuration the providers now refuse."""
    now = now or utcnow()
    repo = EventRepository(session)
    source: Event | None = None
    slots_in = body.slots
    branding = body.branding
    retention = body.retention_days
    configs: dict[str, Any] = {}
    if body.from_event_id is not None:
        source = await get_event(session, body.from_event_id)
        if slots_in is None:
            source_slots = (await repo.slots([source.id]))[source.id]
            slots_in = [EventSlotIn(slot_id=s.slot_id, keep_originals=s.keep_originals) for s in source_slots]
        branding = branding or branding_of(source)
        retention = retention or source.retention_days
        configs = dict(source.slot_configs or {})
    branding = branding or Branding(title=body.name)
    retention = retention or DEFAULT_RETENTION_DAYS
    await _check_logo(session, branding)
    slots = await _checked_slots(session, slots_in or [], event_id=None, is_open=True)
    if body.apply_slot_configs and configs:
        wanted = {slot_id for slot_id, _ in slots}
        await reuse.apply_slot_configs(
            session,
            config,
            registry,
            {k: v for k, v in configs.items() if k in wanted},
            actor=actor,
            now=now,
        )
    event = Event(
        id=new_event_id(),
        name=body.name,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        retention_days=retention,
        retain_until=retain_until(body.ends_at, retention),
        gallery_open=False,
        slot_configs=await reuse.snapshot_slot_configs(session, [s for s, _ in slots]),
        source_event_id=source.id if source else None,
        created_at=now,
        updated_at=now,
        created_by=actor.username,
    )
    _apply_branding(event, branding)
    session.add(event)
    await session.flush()
    await _save_slots(repo, event.id, slots, is_open=True)
    changes = _audit_view(event, slots)
    if source is not None:
        changes["from_event_id"] = source.id
    await audit_service.record(session, actor, "event.create", f"event:{event.id}", changes, now=now)
    return to_read(config, event, (await repo.slots([event.id]))[event.id], now)


async def _save_slots(
    repo: EventRepository, event_id: str, slots: Sequence[tuple[str, bool]], *, is_open: bool
) -> None:
    try:
        async with repo.session.begin_nested():
            await repo.replace_slots(event_id, slots, is_open=is_open)
    except sa_exc.IntegrityError:
        # Another request gave one of these slots to its open event between our check and our write.
        raise SlotInOpenEvent("A slot was just taken by another open event; reload and try again.") from None


async def update_event(
    session: AsyncSession,
    config: AppConfig,
    event_id: str,
    body: EventUpdate,
    *,
    actor: AuditActor,
    now: datetime | None = None,
) -> EventRead:
    """Change the fields given (flushed). Raises `EventNotFound`, `EventValidationFailed`, `SlotInOpenEvent`."""
    now = now or utcnow()
    repo = EventRepository(session)
    event = await get_event(session, event_id)
    current = [(s.slot_id, s.keep_originals) for s in (await repo.slots([event.id]))[event.id]]
    before = _audit_view(event, current)
    starts = body.starts_at or event.starts_at
    ends = body.ends_at or event.ends_at
    if ends < starts:
        raise EventValidationFailed(
            "The event ends before it starts.",
            errors=[_field(("ends_at",), "ends_at is before starts_at", "value_error")],
        )
    if body.branding is not None:
        await _check_logo(session, body.branding)
        _apply_branding(event, body.branding)
    slots = current
    if body.slots is not None:
        slots = await _checked_slots(session, body.slots, event_id=event.id, is_open=event.closed_at is None)
        await _save_slots(repo, event.id, slots, is_open=event.closed_at is None)
        event.slot_configs = await reuse.snapshot_slot_configs(session, [s for s, _ in slots])
    event.name = body.name or event.name
    event.starts_at, event.ends_at = starts, ends
    event.retention_days = body.retention_days or event.retention_days
    event.retain_until = retain_until(event.ends_at, event.retention_days)
    event.updated_at = now
    await session.flush()
    changes = audit_service.diff(before, _audit_view(event, slots))
    await audit_service.record(session, actor, "event.update", f"event:{event.id}", changes, now=now)
    return to_read(config, event, (await repo.slots([event.id]))[event.id], now)


async def close_event(
    session: AsyncSession, config: AppConfig, event_id: str, *, actor: AuditActor, now: datetime | None = None
) -> EventRead:
    """Close the event: its slots are free for other events and new shots belong to no event. The slot
    configurations are saved with it for reuse. Closing a closed event changes nothing."""
    now = now or utcnow()
    repo = EventRepository(session)
    event = await get_event(session, event_id)
    slots = (await repo.slots([event.id]))[event.id]
    if event.closed_at is None:
        event.slot_configs = await reuse.snapshot_slot_configs(session, [s.slot_id for s in slots])
        event.closed_at = now
        event.updated_at = now
        await repo.set_slots_open(event.id, False)
        await audit_service.record(session, actor, "event.close", f"event:{event.id}", {}, now=now)
    return to_read(config, event, (await repo.slots([event.id]))[event.id], now)


async def reopen_event(
    session: AsyncSession, config: AppConfig, event_id: str, *, actor: AuditActor, now: datetime | None = None
) -> EventRead:
    """Open a closed event again; 409 `slot_in_open_event` when another open event took one of its slots."""
    now = now or utcnow()
    repo = EventRepository(session)
    event = await get_event(session, event_id)
    if event.closed_at is not None:
        slots = (await repo.slots([event.id]))[event.id]
        await _refuse_taken(session, [s.slot_id for s in slots], event.id)
        try:
            async with session.begin_nested():
                await repo.set_slots_open(event.id, True)
        except sa_exc.IntegrityError:
            raise SlotInOpenEvent("A slot was just taken by another open event.") from None
        event.closed_at = None
        event.updated_at = now
        await audit_service.record(session, actor, "event.reopen", f"event:{event.id}", {}, now=now)
    return to_read(config, event, (await repo.slots([event.id]))[event.id], now)


async def delete_event(
    session: AsyncSession, event_id: str, *, actor: AuditActor, now: datetime | None = None
) -> Deleted:
    """Delete the event (flushed). Its jobs belong to no event from then on: their guest links keep their
    TTL and cleanup removes results past it on its next run. The originals kept for it are returned for the
    caller to unlink once the deletion is committed."""
    now = now or utcnow()
    repo = EventRepository(session)
    event = await get_event(session, event_id)
    originals = await repo.original_paths(event.id)
    name = event.name
    await session.delete(event)
    await session.flush()
    await audit_service.record(
        session,
        actor,
        "event.delete",
        f"event:{event_id}",
        {"name": name, "originals": len(originals)},
        now=now,
    )
    return Deleted(originals)


async def set_gallery(
    session: AsyncSession,
    config: AppConfig,
    event_id: str,
    *,
    is_open: bool,
    actor: AuditActor,
    now: datetime | None = None,
) -> EventRead:
    """Open or close the public gallery. Its link (and so a printed QR code) stays the same across openings."""
    now = now or utcnow()
    repo = EventRepository(session)
    event = await get_event(session, event_id)
    if is_open and event.gallery_token is None:
        event.gallery_token = secrets.token_urlsafe(24)
    if event.gallery_open != is_open:
        event.gallery_open = is_open
        event.updated_at = now
        action = "event.gallery_open" if is_open else "event.gallery_close"
        await audit_service.record(session, actor, action, f"event:{event.id}", {}, now=now)
    await session.flush()
    return to_read(config, event, (await repo.slots([event.id]))[event.id], now)
