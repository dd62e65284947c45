"""Duplicating a slot: its whole configuration (name with a suffix, provider, operation, parameters with
their template references, output and failure policy, the fallback chain and hedging, the guest-page
branding) written over another of the 15 fixed slots. The target keeps its on/off state and its webhook
(a webhook belongs to whoever set it up, and its secret is never copied). Goes through `update_slot` at
the version the operator saw, so validation, the version guard and the audit diff apply."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.audit.service import AuditActor
from photochanger.config import AppConfig
from photochanger.core.errors import ValidationFailed
from photochanger.core.time import utcnow
from photochanger.providers.registry import ProviderRegistry
from photochanger.slots import branding, service
from photochanger.slots.schemas import SlotRead, SlotUpdate

NAME_MAX = 120


class DuplicateOntoItself(ValidationFailed):
    code = "duplicate_onto_itself"
    title = "A slot cannot be duplicated onto itself"


def copy_name(name: str, suffix: str) -> str:
    """`name` plus ` suffix`, the name shortened so the whole fits the 120 characters a name may have."""
    tail = f" {suffix}"
    return name[: NAME_MAX - len(tail)].rstrip() + tail


@dataclass(frozen=True)
class Target:
    """A slot offered as the copy's place: free when switched off (no booth gets results from it)."""

    id: str
    display_name: str
    provider: str
    operation: str
    is_active: bool
    version: int
    shots_last_hour: int


async def targets(session: AsyncSession, config: AppConfig, source_id: str) -> list[Target]:
    """The other slots, switched-off ones first (by id). Raises `SlotNotFound` for the source."""
    await service.get_slot(session, config, source_id, limit=0)
    found = [
        Target(
            s.id,
            s.display_name,
            s.provider,
            s.operation,
            s.is_active,
            s.version,
            sum(s.outcomes_last_hour.values()),
        )
        for s in await service.list_slots(session, config)
        if s.id != source_id
    ]
    return sorted(found, key=lambda t: (t.is_active, t.id))


async def duplicate_slot(
    session: AsyncSession,
    config: AppConfig,
    registry: ProviderRegistry,
    source_id: str,
    target_id: str,
    *,
    target_version: int,
    suffix: str,
    actor: AuditActor,
    now: datetime | None = None,
) -> SlotRead:
    """Write a copy of the source's configuration over the target (flushed, not committed).

    Raises `SlotNotFound` (404), `DuplicateOntoItself` (422), `SlotVersionConflict` (409) when the target
    changed since the operator read it at `target_version`, and `SlotValidationFailed` (422) when the
    source's saved configuration no longer validates (e.g. its frame was deleted)."""
    now = now or utcnow()
    if source_id == target_id:
        raise DuplicateOntoItself("Choose another slot than the one being duplicated.")
    source = await service.get_slot(session, config, source_id, limit=0)
    target = await service.get_slot(session, config, target_id, limit=0)
    body = SlotUpdate(
        display_name=copy_name(source.display_name, suffix),
        provider=source.provider,
        operation=source.operation,
        params=source.params,
        is_active=target.is_active,
        size_limit_mb=source.size_limit_mb,
        output_format=source.output_format,
        on_failure=source.on_failure,
        fallbacks=source.fallbacks,
        hedge_after_seconds=source.hedge_after_seconds,
        version=target_version,
    )
    written = await service.update_slot(session, config, registry, target.id, body, actor=actor, now=now)
    look = await branding.get(session, source.id)
    await branding.update(
        session,
        target.id,
        branding.BrandingUpdate(
            title=look.title or "",
            text=look.text or "",
            logo_media_id=look.logo_media_id or "",
            accent_color=look.accent_color or "",
            background_color=look.background_color or "",
        ),
        actor=actor,
    )
    await audit_service.record(
        session, actor, "slot.duplicate", f"slot:{target.id}", {"source": source.id}, now=now
    )
    await session.flush()
    return written
