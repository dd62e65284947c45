"""The slot editor page, shared by saving a slot and by a trial run of unsaved settings: the submitted
non-parameter fields as a form model, and the page built from a slot, the catalogue and what was typed."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from photochanger.admin import forms
from photochanger.admin.rendering import field_messages, render
from photochanger.config import AppConfig
from photochanger.media import service as media_service
from photochanger.providers.registry import ProviderRegistry
from photochanger.slots import branding
from photochanger.slots import service as slots_service
from photochanger.slots.schemas import OnFailure, OperationRead, OutputFormat, ProviderRead, SlotRead
from photochanger.webhooks import service as webhooks_service

WEBHOOK_DELIVERIES = 20
KEPT_FIELDS = ("display_name", "is_active", "size_limit_mb", "output_format", "on_failure", "webhook_url")


class SlotForm(BaseModel):
    """The slot editor's fields other than the operation's parameters, as typed, so a refused save shows
    them again. `webhook_fields` tells whether the page had the webhook inputs at all (an older page did
    not, and keeps the webhook as it is)."""

    model_config = ConfigDict(extra="ignore")

    provider: str = ""
    operation: str = ""
    display_name: str = ""
    is_active: bool = False
    size_limit_mb: str = ""
    output_format: str = OutputFormat.jpeg.value
    on_failure: str | None = None
    webhook_url: str = ""
    webhook_secret: str = ""
    version: str = ""
    webhook_fields: bool = False

    @classmethod
    def from_form(cls, form: FormData) -> "SlotForm":
        text = {name: value for name, value in form.items() if isinstance(value, str)}
        remove = form.get("webhook_remove") == "on"
        return cls.model_validate(
            {
                **text,
                "size_limit_mb": text.get("size_limit_mb", "").strip(),
                "output_format": text.get("output_format") or OutputFormat.jpeg.value,
                "on_failure": text.get("on_failure") or None,
                # A ticked "remove" shows (and sends) no URL.
                "webhook_url": "" if remove else text.get("webhook_url", "").strip(),
                "is_active": form.get("is_active") == "on",
                "webhook_fields": "webhook_url" in form or "webhook_remove" in form,
            }
        )

    @classmethod
    def of_slot(cls, slot: SlotRead) -> "SlotForm":
        return cls(
            provider=slot.provider,
            operation=slot.operation,
            display_name=slot.display_name,
            is_active=slot.is_active,
            size_limit_mb="" if slot.size_limit_mb is None else str(slot.size_limit_mb),
            output_format=slot.output_format.value,
            on_failure=slot.on_failure.value,
            webhook_url=slot.webhook_url or "",
            version=str(slot.version),
        )

    def settings(self) -> dict[str, Any]:
        """The fields `SlotUpdate` and `TrialSettings` share, as the API takes them."""
        return {
            "provider": self.provider,
            "operation": self.operation,
            "size_limit_mb": self.size_limit_mb or None,
            "output_format": self.output_format,
            "on_failure": self.on_failure,
        }

    def webhook_update(self) -> dict[str, str]:
        """The webhook part of a slot update: the checkbox or an empty URL clears it (`""`); an empty secret
        field is left out so the stored secret is kept (the page never shows it)."""
        if not self.webhook_fields:
            return {}
        if not self.webhook_url:
            return {"webhook_url": ""}
        url = {"webhook_url": self.webhook_url}
        return {**url, "webhook_secret": self.webhook_secret} if self.webhook_secret else url


def kept_edits(request: Request, slot: SlotRead) -> SlotForm:
    """The editor's values: the saved ones, or the typed ones carried over a provider or operation switch
    (`kept=1` plus the fields, sent by the picker); the version stays the one read."""
    saved = SlotForm.of_slot(slot)
    if request.query_params.get("kept") != "1":
        return saved
    typed = SlotForm.from_form(FormData(list(request.query_params.multi_items())))
    return saved.model_copy(update={name: getattr(typed, name) for name in KEPT_FIELDS})


def pick(
    catalogue: list[ProviderRead], provider_id: str, operation_id: str
) -> tuple[ProviderRead | None, OperationRead | None]:
    """The catalogue's provider and operation (its first one when `operation_id` is not among them)."""
    provider = next((p for p in catalogue if p.id == provider_id), None)
    if provider is None:
        return None, None
    op = next((o for o in provider.operations if o.id == operation_id), None)
    return provider, op or (provider.operations[0] if provider.operations else None)


@dataclass(frozen=True)
class Submitted:
    """What an editor form asked for: the provider and operation, the parameters parsed by the
    operation's schema (none when the operation is not the one named) and the other fields."""

    provider_id: str
    operation_id: str
    params: dict[str, Any]
    form: SlotForm


def submitted(providers: ProviderRegistry, form: FormData) -> Submitted:
    typed = SlotForm.from_form(form)
    _, op = pick(slots_service.catalogue(providers), typed.provider, typed.operation)
    schema = op.params_schema if op and op.id == typed.operation else {}
    params = forms.parse_params(schema, form) if schema else {}
    return Submitted(typed.provider, typed.operation, params, typed)


async def editor(
    request: Request,
    session: AsyncSession,
    config: AppConfig,
    providers: ProviderRegistry,
    keyed: set[str],
    slot: SlotRead,
    *,
    provider_id: str,
    operation_id: str,
    params: dict[str, Any],
    top: SlotForm,
    errors: ValidationError | Sequence[Mapping[str, Any]] | None = None,
    banner: str | None = None,
    banner_kind: str = "error",
    status_code: int = 200,
    conflict: bool = False,
    **extra: Any,
) -> Response:
    """The slot editor page; `errors` (a form model's or the service's) are shown at their fields."""
    catalogue = slots_service.catalogue(providers, keyed)
    provider, op = pick(catalogue, provider_id, operation_id)
    param_errors = field_messages(request, errors, "params")
    fields = forms.build_fields(op.params_schema, params, param_errors) if op else []
    others = [(s.id, s.display_name) for s in await slots_service.list_slots(session, config)]
    return render(
        request,
        "slot_edit.html",
        status_code,
        slot=slot,
        catalogue=catalogue,
        provider=provider,
        operation=op,
        fields=fields,
        media=await media_service.list_media(session, providers),
        top=top,
        top_errors=field_messages(request, errors),
        banner=banner,
        banner_kind=banner_kind,
        output_formats=[f.value for f in OutputFormat],
        on_failures=[f.value for f in OnFailure],
        conflict=conflict,
        deliveries=await webhooks_service.list_deliveries(session, slot.id, limit=WEBHOOK_DELIVERIES),
        deliveries_limit=WEBHOOK_DELIVERIES,
        brand=await branding.get(session, slot.id),
        other_slots=[(i, name) for i, name in others if i != slot.id],
        **extra,
    )
