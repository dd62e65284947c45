"""Slot configuration for ingest (`get_config`) and the admin slot API: catalogue, read, update and the
results export. Whether a configuration can work is `slots.validation`'s concern, the settings a test run
uses `slots.trial`'s; operations over several slots at once (and copies of a slot) live in `slots.bulk`."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.audit.service import AuditActor
from photochanger.config import AppConfig
from photochanger.core.images import EXTENSION_BY_MIME
from photochanger.core.links import Links
from photochanger.core.storage import MediaLayout
from photochanger.core.time import utcnow
from photochanger.core.zipstream import ZipEntry
from photochanger.models import Job, Slot
from photochanger.providers.base import CONNECTION_CHECK_SECONDS, Deadline
from photochanger.providers.registry import ProviderRegistry, UnknownProvider
from photochanger.slots import validation
from photochanger.slots.exceptions import (
    ProviderNotFound,
    SlotNotFound,
    SlotValidationFailed,
    SlotVersionConflict,
)
from photochanger.slots.repository import SlotRepository
from photochanger.slots.schemas import (
    ConnectionCheckRead,
    OperationRead,
    ProviderRead,
    ResultRead,
    SlotRead,
    SlotSettings,
    SlotSummaryRead,
    SlotUpdate,
)

DEFAULT_RECENT_RESULTS = 10
OUTCOME_WINDOW = timedelta(hours=1)
OUTCOME_STATUSES = ("done", "failed", "timeout", "pending")


@dataclass(frozen=True)
class SlotConfig:
    """A detached, validated snapshot of a slot for one job."""

    id: str
    provider: str
    operation: str
    is_active: bool
    settings: SlotSettings


async def get_config(session: AsyncSession, slot_id: str) -> SlotConfig | None:
    slot = await session.get(Slot, slot_id)
    if slot is None:
        return None
    return SlotConfig(
        id=slot.id,
        provider=slot.provider,
        operation=slot.operation,
        is_active=slot.is_active,
        settings=SlotSettings.model_validate(slot.settings or {}),
    )


# --- provider catalogue ------------------------------------------------------------------------------


def catalogue(registry: ProviderRegistry, keyed: Collection[str] = ()) -> list[ProviderRead]:
    """Every provider with its operations; `params_schema` is the options model's JSON Schema, template
    media fields carry `x-template-media: true` and are also listed in `template_fields`. A provider is
    `configured` with its environment key or with a working key set in the admin (`keyed`)."""
    return [
        ProviderRead(
            id=provider.id,
            title=provider.title,
            configured=provider.configured or provider.id in keyed,
            operations=[
                OperationRead(
                    id=op.id,
                    title=op.title,
                    params_schema=op.options_model.model_json_schema(),
                    template_fields=list(op.template_fields),
                )
                for op in provider.operations.values()
            ],
        )
        for provider in registry
    ]


async def check_connection(
    registry: ProviderRegistry, provider_id: str, api_key: str | None = None
) -> ConnectionCheckRead:
    """One cheap authenticated call to the provider (at most `CONNECTION_CHECK_SECONDS`): ok, or the
    provider's own error text. Raises `ProviderNotFound` (404)."""
    try:
        provider = registry.get(provider_id)
    except UnknownProvider:
        raise ProviderNotFound(f"There is no provider {provider_id!r}.") from None
    if not (provider.configured or api_key):
        return ConnectionCheckRead(
            provider=provider.id,
            ok=False,
            detail=f"{provider.title} is not configured: its API key is not set",
        )
    result = await provider.check_connection(Deadline.after(CONNECTION_CHECK_SECONDS), api_key=api_key)
    return ConnectionCheckRead(
        provider=provider.id, ok=result.ok, detail=result.detail, upstream_status=result.upstream_status
    )


async def saved_configuration_notes(
    session: AsyncSession, config: AppConfig, registry: ProviderRegistry, slot: SlotRead
) -> list[str]:
    """What the provider says about the saved configuration: problems (a slot saved before a check
    existed) and warnings, as messages for the slot editor. Empty when all is well."""
    try:
        options = await validation.validate_params(
            session, registry, slot.provider, slot.operation, slot.params
        )
        warnings = await validation.check_with_provider(
            session, config, registry, slot.provider, slot.operation, options, slot.output_format
        )
    except SlotValidationFailed as exc:
        return [str(err.get("msg", "")) for err in exc.errors or []]
    return [str(w["msg"]) for w in warnings]


# --- reads -----------------------------------------------------------------------------------------------


def ingest_url(config: AppConfig, slot_id: str) -> str:
    return config.absolute_url(Links.ingest(slot_id))


def result_read(config: AppConfig, job: Job, now: datetime) -> ResultRead:
    expires = job.result_expires_at
    return ResultRead(
        job_id=job.id,
        source=job.source,
        created_at=job.created_at,
        finished_at=job.finished_at,
        expires_at=expires,
        available=job.result_available(now),
        result_url=config.absolute_url(Links.result(job.id)),
        preview_url=config.absolute_url(Links.preview(job.id)),
        result_link=job.result_link,
        result_provider=job.result_provider,
    )


def _slot_read(config: AppConfig, slot: Slot, results: list[ResultRead]) -> SlotRead:
    settings = SlotSettings.model_validate(slot.settings or {})
    return SlotRead(
        id=slot.id,
        display_name=slot.display_name,
        provider=slot.provider,
        operation=slot.operation,
        params=settings.params,
        is_active=slot.is_active,
        size_limit_mb=settings.size_limit_mb,
        output_format=settings.output_format,
        on_failure=settings.on_failure,
        webhook_url=settings.webhook_url,
        webhook_secret_set=bool(settings.webhook_secret),
        fallbacks=settings.fallbacks,
        hedge_after_seconds=settings.hedge_after_seconds,
        version=slot.version,
        ingest_url=ingest_url(config, slot.id),
        updated_at=slot.updated_at,
        updated_by=slot.updated_by,
        recent_results=results,
    )


async def list_slots(
    session: AsyncSession, config: AppConfig, *, now: datetime | None = None
) -> list[SlotSummaryRead]:
    """All slots with booth-job outcome counts of the last hour (test runs are not counted)."""
    now = now or utcnow()
    repo = SlotRepository(session)
    counts = await repo.outcome_counts(now - OUTCOME_WINDOW)
    return [
        SlotSummaryRead(
            id=slot.id,
            display_name=slot.display_name,
            provider=slot.provider,
            operation=slot.operation,
            is_active=slot.is_active,
            ingest_url=ingest_url(config, slot.id),
            version=slot.version,
            updated_at=slot.updated_at,
            updated_by=slot.updated_by,
            outcomes_last_hour={s: counts.get(slot.id, {}).get(s, 0) for s in OUTCOME_STATUSES},
        )
        for slot in await repo.list()
    ]


async def slot_row(repo: SlotRepository, slot_id: str) -> Slot:
    """The slot row, or `SlotNotFound` (404)."""
    slot = await repo.get(slot_id)
    if slot is None:
        raise SlotNotFound(f"There is no slot {slot_id!r}.")
    return slot


async def get_slot(
    session: AsyncSession,
    config: AppConfig,
    slot_id: str,
    *,
    limit: int = DEFAULT_RECENT_RESULTS,
    now: datetime | None = None,
) -> SlotRead:
    """The slot's full configuration and its last `limit` done jobs (newest first)."""
    now = now or utcnow()
    repo = SlotRepository(session)
    slot = await slot_row(repo, slot_id)
    jobs = await repo.recent_done(slot_id, limit)
    return _slot_read(config, slot, [result_read(config, job, now) for job in jobs])


async def latest_results(
    session: AsyncSession, config: AppConfig, *, now: datetime | None = None
) -> dict[str, ResultRead]:
    """Slot id -> its newest done job, for every slot with one, read in one query."""
    now = now or utcnow()
    jobs = await SlotRepository(session).latest_done()
    return {job.slot_id: result_read(config, job, now) for job in jobs}


# --- update ----------------------------------------------------------------------------------------------


def _audit_view(slot: Slot) -> dict[str, Any]:
    settings = SlotSettings.model_validate(slot.settings or {})
    return {
        "display_name": slot.display_name,
        "provider": slot.provider,
        "operation": slot.operation,
        "params": settings.params,
        "is_active": slot.is_active,
        "size_limit_mb": settings.size_limit_mb,
        "output_format": settings.output_format.value,
        "on_failure": settings.on_failure.value,
        "webhook_url": settings.webhook_url,
        "fallbacks": [link.model_dump(mode="json") for link in settings.fallbacks],
        "hedge_after_seconds": settings.hedge_after_seconds,
    }


def _signing_change(old: str | None, new: str | None) -> dict[str, str]:
    """The audit entry for the webhook secret: only that it was set, replaced or removed. Nothing derived
    from the secret is kept (a short unsalted digest of it is a guessing oracle)."""
    if (old or None) == (new or None):
        return {}
    if not new:
        return {"webhook_signing": "removed"}
    return {"webhook_signing": "changed" if old else "set"}


async def update_slot(
    session: AsyncSession,
    config: AppConfig,
    registry: ProviderRegistry,
    slot_id: str,
    body: SlotUpdate,
    *,
    actor: AuditActor,
    now: datetime | None = None,
) -> SlotRead:
    """Validate and save a slot (flushed, not committed), guarded by its `version`.

    Raises `SlotNotFound` (404), `SlotValidationFailed` (422, one error per field) or `SlotVersionConflict`
    (409) when the slot changed since the client read `body.version`. The next upload uses the new settings.
    """
    now = now or utcnow()
    repo = SlotRepository(session)
    slot = await slot_row(repo, slot_id)
    options = await validation.validate_params(session, registry, body.provider, body.operation, body.params)
    warnings = await validation.check_with_provider(
        session, config, registry, body.provider, body.operation, options, body.output_format
    )
    if slot.version != body.version:
        raise SlotVersionConflict(
            f"Slot {slot_id} is at version {slot.version}, not {body.version}; reload it and try again.",
            extra={"current_version": slot.version},
        )
    before = _audit_view(slot)
    current = SlotSettings.model_validate(slot.settings or {})
    fallbacks = await validation.validate_fallbacks(session, registry, body.fallbacks)
    chain: dict[str, Any] = {}
    if fallbacks is not None:
        chain["fallbacks"] = fallbacks
    if "hedge_after_seconds" in body.model_fields_set:
        chain["hedge_after_seconds"] = body.hedge_after_seconds
    settings = current.model_copy(
        update={
            **chain,
            # Only what the admin set is stored, so defaults the driver changes later still apply.
            "params": options.model_dump(mode="json", exclude_unset=True),
            "size_limit_mb": body.size_limit_mb,
            "output_format": body.output_format,
            "on_failure": body.on_failure or current.on_failure,
            **validation.webhook_changes(body, current),
        }
    )
    saved = await repo.update_versioned(
        slot_id,
        body.version,
        {
            "display_name": body.display_name,
            "provider": body.provider,
            "operation": body.operation,
            "settings": settings.model_dump(mode="json"),
            "is_active": body.is_active,
            "updated_at": now,
            "updated_by": actor.username,
        },
    )
    if not saved:
        raise SlotVersionConflict(
            f"Slot {slot_id} was changed by someone else meanwhile; reload it and try again."
        )
    await session.refresh(slot)
    changes = audit_service.diff(before, _audit_view(slot)) | _signing_change(
        current.webhook_secret, settings.webhook_secret
    )
    await audit_service.record(session, actor, "slot.update", f"slot:{slot_id}", changes, now=now)
    jobs = await repo.recent_done(slot_id, DEFAULT_RECENT_RESULTS)
    read = _slot_read(config, slot, [result_read(config, job, now) for job in jobs])
    return read.model_copy(update={"warnings": warnings})


# --- export ----------------------------------------------------------------------------------------------


async def export_entries(
    session: AsyncSession,
    layout: MediaLayout,
    slot_id: str,
    *,
    start: datetime | None,
    end: datetime | None,
    include_tests: bool = False,
    now: datetime | None = None,
) -> list[ZipEntry]:
    """The slot's unexpired done results in `[start, end)` (by creation time) as ZIP entries, oldest
    first; booth jobs only unless `include_tests`. Raises `SlotNotFound`."""
    repo = SlotRepository(session)
    await slot_row(repo, slot_id)
    rows = await repo.downloadable(
        slot_id, now=now or utcnow(), start=start, end=end, include_tests=include_tests
    )
    entries: list[ZipEntry] = []
    for job_id, relpath, result_type, created_at in rows:
        ext = EXTENSION_BY_MIME.get(result_type or "", relpath.rsplit(".", 1)[-1])
        name = f"{created_at:%Y%m%d-%H%M%S}-{job_id}.{ext}"
        entries.append(ZipEntry(name, layout.resolve(relpath), created_at))
    return entries
