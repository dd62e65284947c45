"""Admin slot API: `/api/providers` catalogue, `/api/slots` read/update and the results ZIP (the test run,
`POST /api/slots/{slot_id}/test-run`, is the pipeline's: `ingest.testrun`)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal, requires
from photochanger.core.db import SessionDep
from photochanger.core.errors import ValidationFailed, problem_responses
from photochanger.core.time import ensure_utc
from photochanger.core.zipstream import ZIP_OPENAPI, zip_response
from photochanger.deps import AUTH_ERRORS, ConfigDep, KeyStoreDep, MediaLayoutDep, ProvidersDep
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
)

router = APIRouter(prefix="/api/slots", tags=["slots"])
catalogue_router = APIRouter(tags=["slots"])


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


@router.get(
    "/{slot_id}/results.zip",
    response_class=StreamingResponse,
    summary="Download the slot's unexpired results as one ZIP",
    responses={
        200: ZIP_OPENAPI,
        **problem_responses(*AUTH_ERRORS, SlotNotFound, ValidationFailed),
    },
)
async def export_slot_results(
    slot_id: str,
    layout: MediaLayoutDep,
    _principal: Annotated[Principal, requires(permissions.RESULTS_READ)],
    session: SessionDep,
    start: Annotated[datetime | None, Query(alias="from", description="ISO time, inclusive")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="ISO time, exclusive")] = None,
    include_tests: bool = False,
) -> StreamingResponse:
    entries = await service.export_entries(
        session,
        layout,
        slot_id,
        start=ensure_utc(start) if start else None,
        end=ensure_utc(end) if end else None,
        include_tests=include_tests,
    )
    return zip_response(entries, f"{slot_id}-results.zip")
