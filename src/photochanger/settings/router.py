"""`GET/PUT /api/settings`: runtime settings for admins (the ingest password as metadata only)."""

from typing import Annotated

from fastapi import APIRouter

from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal, requires
from photochanger.core.db import SessionDep
from photochanger.core.errors import ValidationFailed, problem_responses
from photochanger.deps import AUTH_ERRORS
from photochanger.settings import service
from photochanger.settings.schemas import SettingsRead, SettingsUpdate

router = APIRouter(prefix="/api/settings", tags=["settings"])


@router.get("", response_model=SettingsRead, responses=problem_responses(*AUTH_ERRORS))
async def get_settings(
    _principal: Annotated[Principal, requires(permissions.SETTINGS_READ)], session: SessionDep
) -> SettingsRead:
    return await service.read_all(session)


@router.put("", response_model=SettingsRead, responses=problem_responses(*AUTH_ERRORS, ValidationFailed))
async def update_settings(
    body: SettingsUpdate,
    principal: Annotated[Principal, requires(permissions.SETTINGS_WRITE)],
    session: SessionDep,
) -> SettingsRead:
    return await service.apply_update(session, body, actor=principal)
