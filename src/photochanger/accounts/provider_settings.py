"""Per-provider settings: concurrency, default model and the price per image of each model (audited)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.accounts.schemas import ProviderSettingsRead, ProviderSettingsUpdate
from photochanger.audit import service as audit_service
from photochanger.audit.service import AuditActor
from photochanger.core.errors import ValidationFailed
from photochanger.core.time import utcnow
from photochanger.models import ProviderSetting
from photochanger.providers.base import Provider
from photochanger.providers.registry import ProviderRegistry, UnknownProvider
from photochanger.slots.exceptions import ProviderNotFound


def models_of(provider: Provider) -> list[str]:
    """The model names the provider's operations take (their `model` option's enum), in order."""
    names: list[str] = []
    for operation in provider.operations.values():
        prop = operation.options_model.model_json_schema().get("properties", {}).get("model", {})
        for name in prop.get("enum", []):
            if name not in names:
                names.append(str(name))
    return names


def _read(provider: Provider, row: ProviderSetting | None) -> ProviderSettingsRead:
    if row is None:
        return ProviderSettingsRead(provider=provider.id, models=models_of(provider))
    return ProviderSettingsRead(
        provider=provider.id,
        concurrency=row.concurrency,
        default_model=row.default_model,
        prices={str(k): float(v) for k, v in (row.prices or {}).items()},
        models=models_of(provider),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _provider(registry: ProviderRegistry, provider_id: str) -> Provider:
    try:
        return registry.get(provider_id)
    except UnknownProvider:
        raise ProviderNotFound(f"There is no provider {provider_id!r}.") from None


async def list_settings(session: AsyncSession, registry: ProviderRegistry) -> list[ProviderSettingsRead]:
    rows = {r.provider: r for r in (await session.scalars(select(ProviderSetting))).all()}
    return [_read(p, rows.get(p.id)) for p in registry]


async def update_settings(
    session: AsyncSession,
    registry: ProviderRegistry,
    provider_id: str,
    body: ProviderSettingsUpdate,
    *,
    actor: AuditActor,
) -> ProviderSettingsRead:
    """Store the fields `body` sets. A model the provider does not offer is refused (422, per field)."""
    provider = _provider(registry, provider_id)
    models = models_of(provider)
    errors: list[dict[str, Any]] = []
    if body.default_model is not None and models and body.default_model not in models:
        errors.append(_error("default_model", f"{provider.title} has no model {body.default_model!r}"))
    for model in body.prices:
        if models and model not in models:
            errors.append(_error(f"prices.{model}", f"{provider.title} has no model {model!r}"))
    if errors:
        raise ValidationFailed("The provider settings have invalid fields.", errors=errors)
    row = await session.get(ProviderSetting, provider.id)
    if row is None:
        row = ProviderSetting(provider=provider.id, prices={}, updated_by=actor.username)
        session.add(row)
    before = {
        "concurrency": row.concurrency,
        "default_model": row.default_model,
        "prices": dict(row.prices or {}),
    }
    for name in body.model_fields_set:
        setattr(row, name, getattr(body, name))
    row.updated_at = utcnow()
    row.updated_by = actor.username
    await session.flush()
    after = {
        "concurrency": row.concurrency,
        "default_model": row.default_model,
        "prices": dict(row.prices or {}),
    }
    changes = {k: {"old": before[k], "new": after[k]} for k in before if before[k] != after[k]}
    await audit_service.record(session, actor, "provider_settings.update", f"provider:{provider.id}", changes)
    return _read(provider, row)


def _error(field: str, message: str) -> dict[str, Any]:
    return {"loc": ["body", *field.split(".")], "field": field, "msg": message, "type": "unknown_model"}
