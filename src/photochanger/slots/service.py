"""Slot configuration for ingest (`get_config`) and the admin slot API: catalogue, read, update, test-run
settings and the results export."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.audit.service import AuditActor
from photochanger.config import AppConfig
from photochanger.core.images import EXTENSION_BY_MIME, run_image_work
from photochanger.core.links import Links
from photochanger.core.storage import MediaLayout
from photochanger.core.time import utcnow
from photochanger.core.zipstream import ZipEntry
from photochanger.media import service as media_service
from photochanger.models import Job, Slot
from photochanger.providers.base import Deadline, FieldProblem, Operation, SlotCheck
from photochanger.providers.registry import ProviderRegistry, UnknownOperation, UnknownProvider
from photochanger.settings import service as settings_service
from photochanger.slots.exceptions import (
    ProviderNotFound,
    SlotNotFound,
    SlotValidationFailed,
    SlotVersionConflict,
)
from photochanger.slots.repository import SlotRepository
from photochanger.slots.schemas import (
    ChainLink,
    ConnectionCheckRead,
    OperationRead,
    OutputFormat,
    ProviderRead,
    ResultRead,
    SlotRead,
    SlotSettings,
    SlotSummaryRead,
    SlotUpdate,
    TrialSettings,
)
from photochanger.webhooks.guard import WebhookTargetRefused, validate_url

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


CONNECTION_CHECK_SECONDS = 10.0


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


# --- validation ----------------------------------------------------------------------------------------


def _error(loc: Sequence[str | int], msg: str, kind: str) -> dict[str, Any]:
    parts = [str(part) for part in loc]
    return {"loc": ["body", *parts], "field": ".".join(parts), "msg": msg, "type": kind}


async def validate_params(
    session: AsyncSession,
    registry: ProviderRegistry,
    provider_id: str,
    operation_id: str,
    params: Mapping[str, Any],
    *,
    prefix: Sequence[str] = (),
) -> BaseModel:
    """The operation's validated options for `params`, or `SlotValidationFailed` with one error per field
    (unknown provider/operation, each bad parameter as `params.<field>`, template ids that do not exist)."""
    try:
        provider = registry.get(provider_id)
    except UnknownProvider:
        raise SlotValidationFailed(
            f"There is no provider {provider_id!r}.",
            errors=[_error([*prefix, "provider"], "Unknown provider", "unknown_provider")],
        ) from None
    try:
        operation = registry.operation(provider.id, operation_id)
    except UnknownOperation:
        raise SlotValidationFailed(
            f"Provider {provider_id} has no operation {operation_id!r}.",
            errors=[_error([*prefix, "operation"], "Unknown operation", "unknown_operation")],
        ) from None
    try:
        options = operation.options_model.model_validate(dict(params))
    except ValidationError as exc:
        errors = [
            _error([*prefix, "params", *err["loc"]], err["msg"], err["type"])
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise SlotValidationFailed("The parameters do not fit the operation.", errors=errors) from None
    await _check_templates(session, operation, options, prefix)
    return options


async def _check_templates(
    session: AsyncSession, operation: Operation, options: BaseModel, prefix: Sequence[str]
) -> None:
    wanted = operation.template_ids(options)
    if not wanted:
        return
    found = await media_service.existing_ids(session, wanted)
    errors: list[dict[str, Any]] = []
    for name in operation.template_fields:
        value = getattr(options, name, None)
        if isinstance(value, str) and value and value not in found:
            errors.append(
                _error([*prefix, "params", name], f"No template media {value!r}", "template_missing")
            )
        elif isinstance(value, list | tuple):
            errors.extend(
                _error([*prefix, "params", name, index], f"No template media {item!r}", "template_missing")
                for index, item in enumerate(value)
                if item and item not in found
            )
    if errors:
        raise SlotValidationFailed("Some template media do not exist.", errors=errors)
    await _check_frames(session, operation, options, prefix)


def _needs_transparency(operation: Operation, name: str) -> bool:
    field = operation.options_model.model_fields.get(name)
    extra = field.json_schema_extra if field is not None else None
    return isinstance(extra, dict) and extra.get("x-needs-transparency") is True


async def _check_frames(
    session: AsyncSession, operation: Operation, options: BaseModel, prefix: Sequence[str]
) -> None:
    """A frame (`x-needs-transparency`) without a transparent pixel would hide the whole photo."""
    frames = {
        name: value
        for name in operation.template_fields
        if _needs_transparency(operation, name) and isinstance(value := getattr(options, name, None), str)
    }
    if not frames:
        return
    opaque = await media_service.opaque_ids(session, frames.values())
    errors = [
        _error(
            [*prefix, "params", name],
            "The frame has no transparent area for the photo",
            "frame_without_transparency",
        )
        for name, value in frames.items()
        if value in opaque
    ]
    if errors:
        raise SlotValidationFailed("A frame must have transparent areas.", errors=errors)


def _problem_error(problem: FieldProblem, prefix: Sequence[str]) -> dict[str, Any]:
    """A provider's field problem located like the other errors: its own fields under `params`."""
    if problem.field in ("provider", "operation", "output_format"):
        loc: list[str] = [*prefix, problem.field]
    else:
        loc = [*prefix, "params", *problem.field.split(".")]
    return _error(loc, problem.message, problem.kind)


async def check_with_provider(
    session: AsyncSession,
    config: AppConfig,
    registry: ProviderRegistry,
    provider_id: str,
    operation_id: str,
    options: BaseModel,
    output_format: OutputFormat,
    *,
    prefix: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Ask the provider whether the configuration can work at all (option pairs its API refuses,
    templates it cannot take, a public base URL it cannot reach). Raises `SlotValidationFailed` (422,
    one error per field) for those; returns the warnings (e.g. typically slower than the booth waits)."""
    provider = registry.get(provider_id)
    operation = registry.operation(provider_id, operation_id)
    ids = operation.template_ids(options)
    templates = (
        await media_service.load_templates(session, MediaLayout(config.media_root), ids) if ids else {}
    )
    runtime = await settings_service.load(session)
    check = SlotCheck(
        options=options,
        output_type=output_format.mime,
        templates=templates,
        public_base_url=config.base_url,
        sync_wait_seconds=float(runtime.t_sync_response_seconds),
    )
    # Drivers may decode templates: Pillow work goes to the bounded image pool.
    problems = await run_image_work(provider.check_slot, operation.id, check)
    errors = [_problem_error(p, prefix) for p in problems if not p.warning]
    if errors:
        raise SlotValidationFailed(f"This configuration cannot work with {provider.title}.", errors=errors)
    return [_problem_error(p, prefix) for p in problems if p.warning]


async def saved_configuration_notes(
    session: AsyncSession, config: AppConfig, registry: ProviderRegistry, slot: SlotRead
) -> list[str]:
    """What the provider says about the saved configuration: problems (a slot saved before a check
    existed) and warnings, as messages for the slot editor. Empty when all is well."""
    try:
        options = await validate_params(session, registry, slot.provider, slot.operation, slot.params)
        warnings = await check_with_provider(
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


async def _get(repo: SlotRepository, slot_id: str) -> Slot:
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
    slot = await _get(repo, slot_id)
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


WEBHOOK_SECRET_MIN = 16


def _signing_change(old: str | None, new: str | None) -> dict[str, str]:
    """The audit entry for the webhook secret: only that it was set, replaced or removed. Nothing derived
    from the secret is kept (a short unsalted digest of it is a guessing oracle)."""
    if (old or None) == (new or None):
        return {}
    if not new:
        return {"webhook_signing": "removed"}
    return {"webhook_signing": "changed" if old else "set"}


def _webhook_changes(body: SlotUpdate, current: SlotSettings) -> dict[str, Any]:
    """Validate the webhook fields of an update; returns the settings keys to change (422 per field)."""
    if body.webhook_url is None and body.webhook_secret is None:
        return {}
    if body.webhook_url == "":
        return {"webhook_url": None, "webhook_secret": None}
    url = body.webhook_url if body.webhook_url is not None else current.webhook_url
    secret = body.webhook_secret if body.webhook_secret is not None else current.webhook_secret
    errors: list[dict[str, Any]] = []
    if url:
        try:
            validate_url(url)
        except WebhookTargetRefused as exc:
            errors.append(_error(["webhook_url"], exc.detail, "invalid_webhook_url"))
        if not secret or len(secret) < WEBHOOK_SECRET_MIN:
            errors.append(
                _error(
                    ["webhook_secret"],
                    f"A signing secret of at least {WEBHOOK_SECRET_MIN} characters "
                    "is required with a webhook URL",
                    "webhook_secret_required",
                )
            )
    if errors:
        raise SlotValidationFailed("The webhook settings are invalid.", errors=errors)
    return {"webhook_url": url or None, "webhook_secret": secret or None}


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
    slot = await _get(repo, slot_id)
    options = await validate_params(session, registry, body.provider, body.operation, body.params)
    warnings = await check_with_provider(
        session, config, registry, body.provider, body.operation, options, body.output_format
    )
    if slot.version != body.version:
        raise SlotVersionConflict(
            f"Slot {slot_id} is at version {slot.version}, not {body.version}; reload it and try again.",
            extra={"current_version": slot.version},
        )
    before = _audit_view(slot)
    current = SlotSettings.model_validate(slot.settings or {})
    fallbacks = await _validate_fallbacks(session, registry, body.fallbacks)
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
            **_webhook_changes(body, current),
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


async def _validate_fallbacks(
    session: AsyncSession, registry: ProviderRegistry, links: list[ChainLink] | None
) -> list[ChainLink] | None:
    """Each fallback validated like the primary, errors located under `fallbacks.<n>.`."""
    if links is None:
        return None
    validated: list[ChainLink] = []
    for index, link in enumerate(links):
        options = await validate_params(
            session, registry, link.provider, link.operation, link.params, prefix=("fallbacks", str(index))
        )
        params = options.model_dump(mode="json", exclude_unset=True)
        validated.append(link.model_copy(update={"params": params}))
    return validated


# --- test runs -------------------------------------------------------------------------------------------


async def trial_override(
    session: AsyncSession,
    config: AppConfig,
    registry: ProviderRegistry,
    slot_id: str,
    trial: TrialSettings | None,
) -> tuple[str, str, SlotSettings] | None:
    """The (provider, operation, settings) a test run should use instead of the saved ones, validated like
    a save (errors located under `settings.`); None to run the saved configuration."""
    slot = await _get(SlotRepository(session), slot_id)
    if trial is None:
        return None
    current = SlotSettings.model_validate(slot.settings or {})
    provider = trial.provider or slot.provider
    operation = trial.operation or slot.operation
    params = trial.params if trial.params is not None else current.params
    options = await validate_params(session, registry, provider, operation, params, prefix=("settings",))
    updates: dict[str, Any] = {"params": options.model_dump(mode="json", exclude_unset=True)}
    for name in ("size_limit_mb", "output_format", "on_failure"):
        if name in trial.model_fields_set:
            updates[name] = getattr(trial, name)
    settings = current.model_copy(update=updates)
    await check_with_provider(
        session, config, registry, provider, operation, options, settings.output_format, prefix=("settings",)
    )
    return provider, operation, settings


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
    await _get(repo, slot_id)
    rows = await repo.downloadable(
        slot_id, now=now or utcnow(), start=start, end=end, include_tests=include_tests
    )
    entries: list[ZipEntry] = []
    for job_id, relpath, result_type, created_at in rows:
        ext = EXTENSION_BY_MIME.get(result_type or "", relpath.rsplit(".", 1)[-1])
        name = f"{created_at:%Y%m%d-%H%M%S}-{job_id}.{ext}"
        entries.append(ZipEntry(name, layout.resolve(relpath), created_at))
    return entries
