"""`POST /admin/settings/ingest-password/generate` (mounted under `/admin` by `admin.router`): the server
picks a strong ingest password and shows it once, in this response only, with a Copy button."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, SecretStr

from photochanger.admin.deps import CsrfFormDep, admin_requires
from photochanger.admin.pages.settings import settings_page
from photochanger.admin.rendering import translator
from photochanger.admin.routing import AdminRoute
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.core.db import SessionDep
from photochanger.settings import service as settings_service
from photochanger.settings.schemas import SettingsUpdate

# 18 random bytes: 24 URL-safe characters, easy to paste into DSLR Remote Pro's password field.
GENERATED_BYTES = 18

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


class ConfirmForm(BaseModel):
    confirm: bool = False


@router.post("/settings/ingest-password/generate")
async def generate_ingest_password(
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SETTINGS_WRITE)],
    _csrf: CsrfFormDep,
    session: SessionDep,
    form: Annotated[ConfirmForm, Form()],
) -> Response:
    """Not a redirect on purpose: the password exists only in this no-store page; reloading or switching
    the language leads back to the settings page without it."""
    t = translator(request)
    if not form.confirm:
        return await settings_page(
            request, session, generate_error=t.gettext("Please confirm the rotation."), status_code=422
        )
    password = secrets.token_urlsafe(GENERATED_BYTES)
    await settings_service.apply_update(
        session, SettingsUpdate(ingest_password=SecretStr(password)), actor=principal
    )
    return await settings_page(
        request, session, banner=t.gettext("Ingest password rotated."), generated_password=password
    )
