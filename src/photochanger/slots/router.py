"""Admin slot API: `/api/providers` catalogue, `/api/slots` read/update, test runs and the results ZIP."""

import json
import secrets
import time
from datetime import datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal, requires
from photochanger.core.db import SessionDep
from photochanger.core.errors import ValidationFailed, problem_responses
from photochanger.core.links import Links
from photochanger.core.multipart import read_upload
from photochanger.core.storage import unlink_quietly
from photochanger.core.time import ensure_utc
from photochanger.core.uploads import PayloadTooLarge
from photochanger.core.zipstream import iter_zip
from photochanger.deps import AUTH_ERRORS, ConfigDep, IngestDep, KeyStoreDep, MediaStoreDep, ProvidersDep
from photochanger.ingest.exceptions import INGEST_ERRORS
from photochanger.ingest.service import IngestRequest
from photochanger.models import JobSource
from photochanger.settings import service as settings_service
from photochanger.slots import service
from photochanger.slots.exceptions import (
    ProviderNotFound,
    SlotNotFound,
    SlotValidationFailed,
    SlotVersionConflict,
)
from photochanger.slots.schemas import (
    ConnectionCheckRead,
    ProviderRead,
    SlotRead,
    SlotSummaryRead,
    SlotUpdate,
    TrialRunRead,
    TrialSettings,
)

router = APIRouter(prefix="/api/slots", tags=["slots"])
catalogue_router = APIRouter(tags=["slots"])

MIB = 1024 * 1024
MULTIPART_OVERHEAD_BYTES = 256 * 1024

_TEST_RUN_FORM: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "JPEG, PNG or WebP"},
                        "settings": {
                            "type": "string",
                            "description": "Optional JSON of unsaved settings to try: provider, operation, "
                            "params, size_limit_mb, output_format, on_failure (missing keys: saved values)",
                        },
                    },
                }
            }
        },
    }
}


@catalogue_router.get(
    "/api/providers", response_model=list[ProviderRead], responses=problem_responses(*AUTH_ERRORS)
)
async def list_providers(
    providers: ProvidersDep,
    keys: KeyStoreDep,
    _principal: Annotated[Principal, requires(permissions.SLOTS_READ)],
) -> list[ProviderRead]:
    return service.catalogue(providers, await keys.keyed_providers())


@catalogue_router.post(
    "/api/providers/{provider_id}/check",
    response_model=ConnectionCheckRead,
    responses=problem_responses(*AUTH_ERRORS, ProviderNotFound),
)
async def check_provider(
    provider_id: str,
    providers: ProvidersDep,
    keys: KeyStoreDep,
    _principal: Annotated[Principal, requires(permissions.SETTINGS_WRITE)],
) -> ConnectionCheckRead:
    """One cheap authenticated call to the provider: ok, or the provider's own error text (200 either
    way; the call's outcome is data, not an error of this API)."""
    key = await keys.first_key(provider_id)
    return await service.check_connection(providers, provider_id, key)


@router.get("", response_model=list[SlotSummaryRead], responses=problem_responses(*AUTH_ERRORS))
async def list_slots(
    config: ConfigDep,
    _principal: Annotated[Principal, requires(permissions.SLOTS_READ)],
    session: SessionDep,
) -> list[SlotSummaryRead]:
    return await service.list_slots(session, config)


@router.get("/{slot_id}", response_model=SlotRead, responses=problem_responses(*AUTH_ERRORS, SlotNotFound))
async def get_slot(
    slot_id: str,
    config: ConfigDep,
    _principal: Annotated[Principal, requires(permissions.SLOTS_READ)],
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = service.DEFAULT_RECENT_RESULTS,
) -> SlotRead:
    return await service.get_slot(session, config, slot_id, limit=limit)


@router.put(
    "/{slot_id}",
    response_model=SlotRead,
    responses=problem_responses(*AUTH_ERRORS, SlotNotFound, SlotVersionConflict, SlotValidationFailed),
)
async def update_slot(
    slot_id: str,
    body: SlotUpdate,
    config: ConfigDep,
    providers: ProvidersDep,
    principal: Annotated[Principal, requires(permissions.SLOTS_WRITE)],
    session: SessionDep,
) -> SlotRead:
    return await service.update_slot(session, config, providers, slot_id, body, actor=principal)


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
    cap = runtime.upload_max_mb * MIB
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > cap + MULTIPART_OVERHEAD_BYTES:
        raise PayloadTooLarge(f"The upload is larger than {runtime.upload_max_mb} MiB.")
    # The settings field has to be known before the pipeline starts, so the form is read here first (into
    # a capped temp file) and the pipeline then takes the photo as read.
    temp = ingest.layout.upload_path(ingest.owner, f"trial-{secrets.token_urlsafe(12)}")
    parsed = await read_upload(
        request.stream(),
        content_type=request.headers.get("content-type"),
        dest=temp,
        max_bytes=cap,
        file_field="file",
    )
    try:
        trial = _trial_settings(parsed.fields.get("settings"))
        override = await service.trial_override(session, config, providers, slot_id, trial)
        # Release this request's connection: the provider call below must not hold one.
        await session.commit()
        received = await ingest.receive(
            IngestRequest(
                slot_id=slot_id,
                arrived_at=arrived_at,
                upload=parsed,
                source=JobSource.ui_test,
                slot_override=override,
            )
        )
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


@router.get(
    "/{slot_id}/results.zip",
    response_class=StreamingResponse,
    summary="Download the slot's unexpired results as one ZIP",
    responses={
        200: {"description": "A ZIP of stored entries", "content": {"application/zip": {}}},
        **problem_responses(*AUTH_ERRORS, SlotNotFound, ValidationFailed),
    },
)
async def export_slot_results(
    slot_id: str,
    store: MediaStoreDep,
    _principal: Annotated[Principal, requires(permissions.RESULTS_READ)],
    session: SessionDep,
    start: Annotated[datetime | None, Query(alias="from", description="ISO time, inclusive")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="ISO time, exclusive")] = None,
    include_tests: bool = False,
) -> StreamingResponse:
    entries = await service.export_entries(
        session,
        slot_id,
        start=ensure_utc(start) if start else None,
        end=ensure_utc(end) if end else None,
        include_tests=include_tests,
    )
    # A plain iterator: Starlette pulls it in a worker thread, so file reads stay off the event loop.
    return StreamingResponse(
        iter_zip(entries, store),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{slot_id}-results.zip"',
            "Cache-Control": "no-store",
        },
    )
