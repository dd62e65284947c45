"""Whether a slot configuration can work, checked when it is saved (or tried): the operation's options,
template media that exist, frames with transparency, the provider's own verdict, fallbacks and webhook
settings. Every problem is a `SlotValidationFailed` (422) with one error per field."""

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.config import AppConfig
from photochanger.core.images import run_image_work
from photochanger.core.storage import MediaLayout
from photochanger.media import service as media_service
from photochanger.providers.base import FieldProblem, Operation, SlotCheck
from photochanger.providers.registry import ProviderRegistry, UnknownOperation, UnknownProvider
from photochanger.settings import service as settings_service
from photochanger.slots.exceptions import SlotValidationFailed
from photochanger.slots.schemas import ChainLink, OutputFormat, SlotSettings, SlotUpdate
from photochanger.webhooks.guard import WebhookTargetRefused, validate_url


def field_error(loc: Sequence[str | int], msg: str, kind: str) -> dict[str, Any]:
    """One entry of `SlotValidationFailed.errors`, located in the request body like FastAPI's own."""
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
            errors=[field_error([*prefix, "provider"], "Unknown provider", "unknown_provider")],
        ) from None
    try:
        operation = registry.operation(provider.id, operation_id)
    except UnknownOperation:
        raise SlotValidationFailed(
            f"Provider {provider_id} has no operation {operation_id!r}.",
            errors=[field_error([*prefix, "operation"], "Unknown operation", "unknown_operation")],
        ) from None
    try:
        options = operation.options_model.model_validate(dict(params))
    except ValidationError as exc:
        errors = [
            field_error([*prefix, "params", *err["loc"]], err["msg"], err["type"])
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
                field_error([*prefix, "params", name], f"No template media {value!r}", "template_missing")
            )
        elif isinstance(value, list | tuple):
            errors.extend(
                field_error(
                    [*prefix, "params", name, index], f"No template media {item!r}", "template_missing"
                )
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
        field_error(
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
    return field_error(loc, problem.message, problem.kind)


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


WEBHOOK_SECRET_MIN = 16


def webhook_changes(body: SlotUpdate, current: SlotSettings) -> dict[str, Any]:
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
            errors.append(field_error(["webhook_url"], exc.detail, "invalid_webhook_url"))
        if not secret or len(secret) < WEBHOOK_SECRET_MIN:
            errors.append(
                field_error(
                    ["webhook_secret"],
                    f"A signing secret of at least {WEBHOOK_SECRET_MIN} characters "
                    "is required with a webhook URL",
                    "webhook_secret_required",
                )
            )
    if errors:
        raise SlotValidationFailed("The webhook settings are invalid.", errors=errors)
    return {"webhook_url": url or None, "webhook_secret": secret or None}


async def validate_fallbacks(
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
