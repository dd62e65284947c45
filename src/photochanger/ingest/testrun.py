"""`POST /api/slots/{slot_id}/test-run`: one photo through the pipeline as a `ui_test` job, with the slot's
saved settings or a trial of unsaved ones. It lives with the pipeline it drives (the slots room knows
nothing of ingest); the slot's own routes are `slots.router`'s."""

import json
import secrets
import time
from typing import Annotated

import anyio
from fastapi import APIRouter, Request
from pydantic import ValidationError

from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal, requires
from photochanger.core.db import SessionDep
from photochanger.core.errors import problem_responses
from photochanger.core.forms import IMAGE_FILE, openapi_form, read_form
from photochanger.core.links import Links
from photochanger.core.storage import unlink_quietly
from photochanger.deps import AUTH_ERRORS, ConfigDep, IngestDep, ProvidersDep
from photochanger.ingest.exceptions import INGEST_ERRORS
from photochanger.ingest.pipeline.request import IngestRequest
from photochanger.settings import service as settings_service
from photochanger.slots import trial as slots_trial
from photochanger.slots.exceptions import SlotValidationFailed
from photochanger.slots.schemas import TrialRunRead, TrialSettings

router = APIRouter(prefix="/api/slots", tags=["slots"])

_TEST_RUN_FORM = openapi_form(
    {
        "file": IMAGE_FILE,
        "settings": {
            "type": "string",
            "description": "Optional JSON of unsaved settings to try: provider, operation, "
            "params, size_limit_mb, output_format, on_failure (missing keys: saved values)",
        },
    },
    required=["file"],
)


def _trial_settings(raw: str | None) -> TrialSettings | None:
    if raw is None or not raw.strip():
        return None
    try:
        return TrialSettings.model_validate(json.loads(raw))
    except json.JSONDecodeError:
        raise SlotValidationFailed(
            "The settings field is not JSON.",
            errors=[
                {"loc": ["body", "settings"], "field": "settings", "msg": "Invalid JSON", "type": "json"}
            ],
        ) from None
    except ValidationError as exc:
        errors = [
            {
                "loc": ["body", "settings", *(str(p) for p in err["loc"])],
                "field": ".".join(["settings", *(str(p) for p in err["loc"])]),
                "msg": err["msg"],
                "type": err["type"],
            }
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise SlotValidationFailed("The settings to try are invalid.", errors=errors) from None


@router.post(
    "/{slot_id}/test-run",
    response_model=TrialRunRead,
    summary="Run one photo through the slot (saved or unsaved settings) like a booth upload",
    openapi_extra=_TEST_RUN_FORM,
    responses=problem_responses(*AUTH_ERRORS, *INGEST_ERRORS, SlotValidationFailed),
)
async def run_slot_test(
    slot_id: str,
    request: Request,
    config: ConfigDep,
    providers: ProvidersDep,
    ingest: IngestDep,
    _principal: Annotated[Principal, requires(permissions.SLOTS_TEST)],
    session: SessionDep,
) -> TrialRunRead:
    arrived_at = getattr(request.state, "arrived_at", None) or time.monotonic()
    runtime = await settings_service.load(session)
    # The settings field has to be known before the pipeline starts, so the form is read here first (into
    # a capped temp file) and the pipeline then takes the photo as read.
    parsed = await read_form(
        request,
        dest=ingest.layout.upload_path(ingest.owner, f"trial-{secrets.token_urlsafe(12)}"),
        cap_mb=runtime.upload_max_mb,
        file_field="file",
    )
    try:
        trial = _trial_settings(parsed.fields.get("settings"))
        override = await slots_trial.trial_override(session, config, providers, slot_id, trial)
        # Release this request's connection: the provider call below must not hold one.
        await session.commit()
        received = await ingest.receive(IngestRequest.test_run(slot_id, parsed, arrived_at, override))
        result = await ingest.process(received)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(unlink_quietly, parsed.path)
    done = result.fallback is None
    return TrialRunRead(
        job_id=result.job_id,
        status="done" if done else "failed",
        content_type=result.content_type,
        result_url=result.result_url if done else None,
        preview_url=config.absolute_url(Links.preview(result.job_id)) if done else None,
        guest_url=result.guest_url if done else None,
        fallback=result.fallback,
        duration_ms=result.duration_ms,
    )
