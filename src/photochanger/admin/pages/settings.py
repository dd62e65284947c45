"""Runtime settings (`/admin/settings`): the tunable values within their bounds, and the ingest password's
rotation."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from photochanger.admin.deps import CsrfFormDep, admin_requires
from photochanger.admin.rendering import done_banner, field_messages, render, rerender, see_other, translator
from photochanger.admin.routing import AdminRoute
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.core.db import SessionDep
from photochanger.core.errors import ValidationFailed
from photochanger.i18n import N_
from photochanger.settings import service as settings_service
from photochanger.settings.schemas import RUNTIME_SETTING_KEYS, RuntimeSettings, SettingsUpdate

DONE = {"saved": N_("Settings saved."), "rotated": N_("Ingest password rotated.")}

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)
Writer = Annotated[Principal, admin_requires(permissions.SETTINGS_WRITE)]


class SettingsForm(BaseModel):
    """The runtime settings as typed (every key of `RuntimeSettings`, checked by a test), shown again when
    refused; `RuntimeSettings` reads them as whole numbers within their bounds."""

    model_config = ConfigDict(str_strip_whitespace=True)

    t_sync_response_seconds: str = ""
    result_ttl_hours: str = ""
    slot_concurrency: str = ""
    provider_concurrency: str = ""
    global_concurrency: str = ""
    upload_max_mb: str = ""


class IngestPasswordForm(BaseModel):
    new_password: str = ""
    repeat_password: str = ""
    confirm: bool = False


async def settings_page(
    request: Request,
    session: SessionDep,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    ingest_error: str | None = None,
    banner: str | None = None,
    banner_kind: str = "ok",
    status_code: int = 200,
    **extra: Any,
) -> Response:
    """The settings page; `extra` carries what one form's answer adds (a generated password)."""
    current = await settings_service.read_all(session)
    schema = RuntimeSettings.model_json_schema()["properties"]
    return render(
        request,
        "settings.html",
        status_code,
        settings=current,
        keys=RUNTIME_SETTING_KEYS,
        values=values or {k: str(getattr(current, k).value) for k in RUNTIME_SETTING_KEYS},
        errors=errors or {},
        ingest_error=ingest_error,
        banner=banner,
        banner_kind=banner_kind,
        bounds={k: (schema[k].get("minimum"), schema[k].get("maximum")) for k in RUNTIME_SETTING_KEYS},
        defaults={k: RuntimeSettings.model_fields[k].default for k in RUNTIME_SETTING_KEYS},
        **extra,
    )


@router.get("/settings")
async def show_settings(
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SETTINGS_READ)],
    session: SessionDep,
    done: str | None = None,
) -> Response:
    return await settings_page(request, session, banner=done_banner(request, DONE, done))


@router.post("/settings")
async def save_settings(
    request: Request,
    principal: Writer,
    _csrf: CsrfFormDep,
    session: SessionDep,
    form: Annotated[SettingsForm, Form()],
) -> Response:
    values = form.model_dump()
    try:
        typed = RuntimeSettings.model_validate(values)
        await settings_service.apply_update(session, SettingsUpdate(**typed.model_dump()), actor=principal)
    except ValidationError as exc:
        errors = field_messages(request, exc)
    except ValidationFailed as exc:
        errors = field_messages(request, exc.errors)
    else:
        return see_other("/admin/settings?done=saved")
    return await rerender(
        session, settings_page, request, session, values=values, errors=errors,
        banner=translator(request).gettext("Some values are out of bounds."), banner_kind="error",
        status_code=422,
    )  # fmt: skip


@router.post("/settings/ingest-password")
async def rotate_ingest_password(
    request: Request,
    principal: Writer,
    _csrf: CsrfFormDep,
    session: SessionDep,
    form: Annotated[IngestPasswordForm, Form()],
) -> Response:
    t = translator(request)
    problem: str | None = None
    if form.new_password != form.repeat_password:
        problem = t.gettext("The two passwords differ.")
    elif not form.confirm:
        problem = t.gettext("Please confirm the rotation.")
    else:
        try:
            body = SettingsUpdate(ingest_password=SecretStr(form.new_password))
        except ValidationError as exc:
            problem = str(exc.errors(include_url=False, include_input=False)[0]["msg"])
        else:
            await settings_service.apply_update(session, body, actor=principal)
    if problem is not None:
        return await rerender(session, settings_page, request, session, ingest_error=problem, status_code=422)
    return see_other("/admin/settings?done=rotated")
