"""The slot editor (`/admin/slots/{id}`): view and save a slot's provider, operation, parameters, limits
and webhook; its guest-page branding; and a test run of the saved settings (`/admin/slots/{id}/test`)."""

import time
from collections.abc import Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from photochanger.admin import forms, testrun
from photochanger.admin.deps import CsrfFormDep, admin_requires
from photochanger.admin.rendering import render, rerender, see_other, translator
from photochanger.admin.routing import AdminRoute
from photochanger.admin.slot_editor import editor, kept_edits, pick, submitted
from photochanger.admin.uploads import discard, read_form_upload
from photochanger.admin.views import catalogue_titles
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.core.db import SessionDep
from photochanger.core.errors import ValidationFailed
from photochanger.deps import ConfigDep, KeyStoreDep, ProvidersDep
from photochanger.settings import service as settings_service
from photochanger.slots import branding
from photochanger.slots import service as slots_service
from photochanger.slots.exceptions import SlotValidationFailed, SlotVersionConflict
from photochanger.slots.schemas import SlotUpdate

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)
Reader = Annotated[Principal, admin_requires(permissions.SLOTS_READ)]
Writer = Annotated[Principal, admin_requires(permissions.SLOTS_WRITE)]
Tester = Annotated[Principal, admin_requires(permissions.SLOTS_TEST)]


@router.get("/slots/{slot_id}")
async def edit_slot(
    slot_id: str,
    request: Request,
    principal: Reader,
    session: SessionDep,
    config: ConfigDep,
    providers: ProvidersDep,
    keys: KeyStoreDep,
    provider: Annotated[str | None, Query(max_length=40)] = None,
    operation: Annotated[str | None, Query(max_length=60)] = None,
    saved: bool = False,
) -> Response:
    slot = await slots_service.get_slot(session, config, slot_id, limit=1)
    provider_id = provider or slot.provider
    operation_id = operation or (slot.operation if provider_id == slot.provider else "")
    same = provider_id == slot.provider and operation_id == slot.operation
    _, op = pick(slots_service.catalogue(providers), provider_id, operation_id)
    banner = translator(request).gettext("Saved.") if saved else None
    # The provider's notes on the saved configuration (e.g. slower than the booth waits) stay visible.
    notes = await slots_service.saved_configuration_notes(session, config, providers, slot)
    if same and notes:
        banner = " ".join([*([banner] if banner else []), *notes])
    return await editor(
        request, session, config, providers, await keys.keyed_providers(), slot,
        provider_id=provider_id, operation_id=op.id if op else operation_id,
        params=slot.params if same else {}, top=kept_edits(request, slot),
        banner=banner, banner_kind="info" if same and notes else "ok",
    )  # fmt: skip


@router.post("/slots/{slot_id}")
async def save_slot(
    slot_id: str,
    request: Request,
    principal: Writer,
    form: CsrfFormDep,
    session: SessionDep,
    config: ConfigDep,
    providers: ProvidersDep,
    keys: KeyStoreDep,
) -> Response:
    t = translator(request)
    slot = await slots_service.get_slot(session, config, slot_id, limit=1)
    asked = submitted(providers, form)

    async def again(
        errors: ValidationError | Sequence[Mapping[str, Any]] | None,
        banner: str,
        status_code: int,
        *,
        conflict: bool = False,
    ) -> Response:
        """The editor with what was typed, over the slot as stored now (its version included)."""

        async def page() -> Response:
            fresh = await slots_service.get_slot(session, config, slot_id, limit=1)
            return await editor(
                request, session, config, providers, await keys.keyed_providers(), fresh,
                provider_id=asked.provider_id, operation_id=asked.operation_id, params=asked.params,
                top=asked.form, errors=errors, banner=banner, status_code=status_code, conflict=conflict,
            )  # fmt: skip

        return await rerender(session, page)

    try:
        body = SlotUpdate.model_validate(
            {
                **asked.form.settings(),
                "display_name": asked.form.display_name,
                "is_active": asked.form.is_active,
                "version": asked.form.version,
                "params": asked.params,
                **asked.form.webhook_update(),
            }
        )
    except ValidationError as exc:
        return await again(exc, t.gettext("Some fields need attention."), 422)
    try:
        await slots_service.update_slot(session, config, providers, slot.id, body, actor=principal)
    except SlotValidationFailed as exc:
        return await again(exc.errors or [], t.gettext("Some fields need attention."), 422)
    except SlotVersionConflict:
        await session.rollback()
        current = await slots_service.get_slot(session, config, slot_id, limit=1)
        return await again(
            None,
            t.gettext(
                "Someone else changed this slot while you were editing it (now version %(version)s). Your changes were not saved: reload the slot and apply them again.",
                version=current.version,
            ),
            409,
            conflict=True,
        )
    return see_other(f"/admin/slots/{slot.id}?saved=1")


class BrandingForm(BaseModel):
    """The guest page's branding as typed; unchecked colours are cleared."""

    brand_title: str = ""
    brand_text: str = ""
    brand_logo: str = ""
    brand_colors: bool = False
    brand_accent: str = ""
    brand_background: str = ""


@router.post("/slots/{slot_id}/branding")
async def update_branding(
    slot_id: str,
    principal: Writer,
    _csrf: CsrfFormDep,
    session: SessionDep,
    form: Annotated[BrandingForm, Form()],
) -> Response:
    """The guest page's branding of this slot (title, text, logo, colours)."""
    try:
        data = branding.BrandingUpdate(
            title=form.brand_title,
            text=form.brand_text,
            logo_media_id=form.brand_logo,
            accent_color=form.brand_accent if form.brand_colors else "",
            background_color=form.brand_background if form.brand_colors else "",
        )
    except ValidationError as exc:
        raise ValidationFailed("The branding has invalid fields.", errors=forms.problem_errors(exc)) from None
    await branding.update(session, slot_id, data, actor=principal)
    return see_other(f"/admin/slots/{quote(slot_id)}?saved=1#branding")


@router.get("/slots/{slot_id}/test")
async def test_page(
    slot_id: str, request: Request, principal: Tester, session: SessionDep, config: ConfigDep,
    providers: ProvidersDep,
) -> Response:  # fmt: skip
    slot = await slots_service.get_slot(session, config, slot_id, limit=1)
    titles = catalogue_titles(request, providers)
    return render(request, "slot_test.html", slot=slot, outcome=None, titles=titles)


@router.post("/slots/{slot_id}/test")
async def run_test(
    slot_id: str, request: Request, principal: Tester, session: SessionDep, config: ConfigDep,
    providers: ProvidersDep,
) -> Response:  # fmt: skip
    """Like `POST /api/slots/{id}/test-run` with the saved settings: the photo runs through the real
    ingest pipeline as a `ui_test` job; the page shows original and result side by side."""
    arrived_at = time.monotonic()
    slot = await slots_service.get_slot(session, config, slot_id, limit=1)
    runtime = await settings_service.load(session)
    # Release this request's connection: the provider call below must not hold one.
    await session.commit()
    parsed = await read_form_upload(request, cap_mb=runtime.upload_max_mb, purpose="test")
    try:
        outcome = await testrun.run(request, parsed, slot.id, arrived_at)
    finally:
        await discard(parsed.path)
    return render(
        request,
        "slot_test.html",
        200 if outcome.get("ok") else 422,
        slot=slot,
        outcome=outcome,
        titles=catalogue_titles(request, providers),
    )
