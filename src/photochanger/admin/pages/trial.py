"""`POST /admin/slots/{id}/trial` (mounted under `/admin` by `admin.router`): a test run of the editor's
unsaved settings on an uploaded photo. Nothing is saved: the editor comes back with the same edits and the
photo before and after, so the operator can tweak again or save."""

import time
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from photochanger.admin import testrun
from photochanger.admin.deps import admin_requires
from photochanger.admin.rendering import translator
from photochanger.admin.routing import AdminRoute
from photochanger.admin.slot_editor import editor, submitted
from photochanger.admin.uploads import discard, read_form_upload
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.core.db import SessionDep
from photochanger.deps import ConfigDep, KeyStoreDep, ProvidersDep
from photochanger.settings import service as settings_service
from photochanger.slots import service as slots_service
from photochanger.slots import trial as slots_trial
from photochanger.slots.exceptions import SlotValidationFailed
from photochanger.slots.schemas import TrialSettings

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


@router.post("/slots/{slot_id}/trial")
async def trial_run(
    slot_id: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SLOTS_TEST)],
    session: SessionDep,
    config: ConfigDep,
    providers: ProvidersDep,
    keys: KeyStoreDep,
) -> Response:
    arrived_at = time.monotonic()
    t = translator(request)
    slot = await slots_service.get_slot(session, config, slot_id, limit=1)
    runtime = await settings_service.load(session)
    parsed = await read_form_upload(request, cap_mb=runtime.upload_max_mb, purpose="trial")
    try:
        asked = submitted(providers, FormData(list(parsed.fields.items())))
        page: dict[str, Any] = {
            "provider_id": asked.provider_id,
            "operation_id": asked.operation_id,
            "params": asked.params,
            "top": asked.form,
        }
        keyed = await keys.keyed_providers()
        try:
            trial = TrialSettings.model_validate(
                {
                    **asked.form.settings(),
                    "provider": asked.provider_id or None,
                    "operation": asked.operation_id or None,
                    "params": asked.params,
                }
            )
            override = await slots_trial.trial_override(session, config, providers, slot.id, trial)
        except ValidationError as exc:
            return await editor(
                request, session, config, providers, keyed, slot, **page, errors=exc,
                banner=t.gettext("Some fields need attention."), status_code=422,
            )  # fmt: skip
        except SlotValidationFailed as exc:
            return await editor(
                request, session, config, providers, keyed, slot, **page, errors=exc.errors,
                banner=t.gettext("Some fields need attention."), status_code=422,
            )  # fmt: skip
        # Release this request's connection: the provider call below must not hold one.
        await session.commit()
        outcome = await testrun.run(request, parsed, slot.id, arrived_at, override)
    finally:
        await discard(parsed.path)
    return await editor(
        request,
        session,
        config,
        providers,
        keyed,
        slot,
        **page,
        trial=outcome,
        status_code=200 if outcome.get("ok") else 422,
    )
