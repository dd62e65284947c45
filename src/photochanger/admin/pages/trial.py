"""`POST /admin/slots/{id}/trial` (mounted under `/admin` by `admin.router`): a test run of the editor's
unsaved settings on an uploaded photo, or on the slot's last booth shot (`use_last_shot=1`). Nothing is
saved: the editor comes back with the same edits and the photo before and after, so the operator can
tweak again or save."""

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from photochanger.admin import forms, testrun
from photochanger.admin.pages import last_shot
from photochanger.admin.rendering import error_message, translator
from photochanger.admin.router import AdminDep, AdminRoute, _editor, _pick, _text, _top_from_form, need
from photochanger.admin.uploads import discard, read_form_upload
from photochanger.auth import permissions
from photochanger.config import AppConfig
from photochanger.core.db import SessionDep
from photochanger.providers.registry import ProviderRegistry
from photochanger.settings import service as settings_service
from photochanger.slots import service as slots_service
from photochanger.slots.exceptions import SlotValidationFailed
from photochanger.slots.schemas import TrialSettings

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


@router.post("/slots/{slot_id}/trial")
async def trial_run(slot_id: str, request: Request, principal: AdminDep, session: SessionDep) -> Response:
    arrived_at = time.monotonic()
    need(principal, permissions.SLOTS_TEST)
    config: AppConfig = request.app.state.config
    registry: ProviderRegistry = request.app.state.providers
    t = translator(request)
    slot = await slots_service.get_slot(session, config, slot_id, limit=1)
    runtime = await settings_service.load(session)
    parsed = await read_form_upload(request, cap_mb=runtime.upload_max_mb, purpose="trial")
    try:
        form = FormData(list(parsed.fields.items()))
        provider_id, operation_id = _text(form, "provider"), _text(form, "operation")
        _, op = _pick(slots_service.catalogue(registry), provider_id, operation_id)
        schema = op.params_schema if op and op.id == operation_id else {}
        params = forms.parse_params(schema, form) if schema else {}
        top = _top_from_form(form)
        page: dict[str, Any] = {"provider_id": provider_id, "operation_id": operation_id, "params": params}
        try:
            trial = TrialSettings.model_validate(
                {
                    "provider": provider_id or None,
                    "operation": operation_id or None,
                    "params": params,
                    "size_limit_mb": top["size_limit_mb"] or None,
                    "output_format": top["output_format"],
                    "on_failure": top["on_failure"],
                }
            )
            override = await slots_service.trial_override(session, config, registry, slot.id, trial)
        except ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in err["loc"]), "type": err["type"], "msg": err["msg"]}
                for err in exc.errors(include_url=False, include_input=False)
            ]
            return await _editor(
                request, session, slot, **page, top=top, errors=forms.field_errors(errors),
                banner=t.gettext("Some fields need attention."), status_code=422,
            )  # fmt: skip
        except SlotValidationFailed as exc:
            return await _editor(
                request, session, slot, **page, top=top, errors=forms.field_errors(exc.errors),
                banner=t.gettext("Some fields need attention."), status_code=422,
            )  # fmt: skip
        if form.get("use_last_shot") == "1":
            for permission in last_shot.LAST_SHOT_PERMISSIONS:
                need(principal, permission)
            try:
                parsed = await last_shot.swap_in(request, session, slot.id, parsed)
            except last_shot.LastShotMissing as exc:
                return await _editor(
                    request, session, slot, **page, top=top, banner=error_message(request, exc),
                    status_code=exc.status_code,
                )  # fmt: skip
        # Release this request's connection: the provider call below must not hold one.
        await session.commit()
        outcome = await testrun.run(request, parsed, slot.id, arrived_at, override)
    finally:
        await discard(parsed.path)
    return await _editor(
        request,
        session,
        slot,
        **page,
        top=top,
        trial=outcome,
        status_code=200 if outcome.get("ok") else 422,
    )
