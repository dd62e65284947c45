"""Test-run support: the configuration a test run uses when the admin tries settings before saving them."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.config import AppConfig
from photochanger.providers.registry import ProviderRegistry
from photochanger.slots import service, validation
from photochanger.slots.repository import SlotRepository
from photochanger.slots.schemas import SlotSettings, TrialSettings


async def trial_override(
    session: AsyncSession,
    config: AppConfig,
    registry: ProviderRegistry,
    slot_id: str,
    trial: TrialSettings | None,
) -> tuple[str, str, SlotSettings] | None:
    """The (provider, operation, settings) a test run should use instead of the saved ones, validated like
    a save (errors located under `settings.`); None to run the saved configuration."""
    slot = await service.slot_row(SlotRepository(session), slot_id)
    if trial is None:
        return None
    current = SlotSettings.model_validate(slot.settings or {})
    provider = trial.provider or slot.provider
    operation = trial.operation or slot.operation
    params = trial.params if trial.params is not None else current.params
    options = await validation.validate_params(
        session, registry, provider, operation, params, prefix=("settings",)
    )
    updates: dict[str, Any] = {"params": options.model_dump(mode="json", exclude_unset=True)}
    for name in ("size_limit_mb", "output_format", "on_failure"):
        if name in trial.model_fields_set:
            updates[name] = getattr(trial, name)
    settings = current.model_copy(update=updates)
    await validation.check_with_provider(
        session, config, registry, provider, operation, options, settings.output_format, prefix=("settings",)
    )
    return provider, operation, settings
