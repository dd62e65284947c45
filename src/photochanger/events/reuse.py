"""Reuse of an event's setup: the slot configurations it saves (display name, provider, operation, settings
with their template media) and their restoring onto the slots for the next event."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit.service import AuditActor
from photochanger.config import AppConfig
from photochanger.models import Slot
from photochanger.providers.registry import ProviderRegistry
from photochanger.slots import service as slots_service
from photochanger.slots.schemas import SlotSettings, SlotUpdate

# Saved for reuse; the webhook (and its secret) belong to the slot, not to the event.
_NOT_SNAPSHOTTED = ("webhook_url", "webhook_secret")


async def snapshot_slot_configs(session: AsyncSession, slot_ids: Sequence[str]) -> dict[str, Any]:
    """The slots' current configurations (display name, provider, operation, settings without webhook)."""
    found: dict[str, Any] = {}
    for slot_id in slot_ids:
        slot = await session.get(Slot, slot_id)
        if slot is None:
            continue
        settings = {k: v for k, v in (slot.settings or {}).items() if k not in _NOT_SNAPSHOTTED}
        found[slot_id] = {
            "display_name": slot.display_name,
            "provider": slot.provider,
            "operation": slot.operation,
            "settings": settings,
        }
    return found


async def apply_slot_configs(
    session: AsyncSession,
    config: AppConfig,
    registry: ProviderRegistry,
    configs: dict[str, Any],
    *,
    actor: AuditActor,
    now: datetime,
) -> None:
    """Write saved configurations back to their slots through the slot service (same validation, audit)."""
    for slot_id, saved in sorted(configs.items()):
        slot = await session.get(Slot, slot_id)
        if slot is None:
            continue
        settings = SlotSettings.model_validate(saved.get("settings") or {})
        body = SlotUpdate(
            display_name=saved["display_name"],
            provider=saved["provider"],
            operation=saved["operation"],
            params=settings.params,
            is_active=slot.is_active,
            size_limit_mb=settings.size_limit_mb,
            output_format=settings.output_format,
            on_failure=settings.on_failure,
            version=slot.version,
        )
        await slots_service.update_slot(session, config, registry, slot_id, body, actor=actor, now=now)
