"""Changes to several slots at once (enable, disable, copy one slot's settings to others). Each slot goes
through `update_slot` at its current version, so validation, the version guard and the audit log apply
to every one of them as if it had been saved by hand."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit.service import AuditActor
from photochanger.config import AppConfig
from photochanger.providers.registry import ProviderRegistry
from photochanger.slots import service
from photochanger.slots.schemas import SlotRead, SlotUpdate


def _body(target: SlotRead, source: SlotRead, *, is_active: bool) -> SlotUpdate:
    """`source`'s processing settings under `target`'s name and version; the webhook stays the target's."""
    return SlotUpdate(
        display_name=target.display_name,
        provider=source.provider,
        operation=source.operation,
        params=source.params,
        is_active=is_active,
        size_limit_mb=source.size_limit_mb,
        output_format=source.output_format,
        on_failure=source.on_failure,
        version=target.version,
    )


async def set_active(
    session: AsyncSession,
    config: AppConfig,
    registry: ProviderRegistry,
    slot_ids: Sequence[str],
    active: bool,
    *,
    actor: AuditActor,
) -> list[str]:
    """Switch the slots on or off; returns the ids that changed. Raises what `update_slot` raises."""
    changed: list[str] = []
    for slot_id in dict.fromkeys(slot_ids):
        slot = await service.get_slot(session, config, slot_id, limit=0)
        if slot.is_active == active:
            continue
        await service.update_slot(
            session, config, registry, slot.id, _body(slot, slot, is_active=active), actor=actor
        )
        changed.append(slot.id)
    return changed


async def copy_settings(
    session: AsyncSession,
    config: AppConfig,
    registry: ProviderRegistry,
    source_id: str,
    target_ids: Sequence[str],
    *,
    actor: AuditActor,
) -> list[str]:
    """Give the targets the source's provider, operation, parameters and output settings (names, on/off
    state and webhooks stay their own); returns the ids written. Raises what `update_slot` raises."""
    source = await service.get_slot(session, config, source_id, limit=0)
    written: list[str] = []
    for slot_id in dict.fromkeys(target_ids):
        if slot_id == source.id:
            continue
        target = await service.get_slot(session, config, slot_id, limit=0)
        await service.update_slot(
            session,
            config,
            registry,
            target.id,
            _body(target, source, is_active=target.is_active),
            actor=actor,
        )
        written.append(target.id)
    return written
