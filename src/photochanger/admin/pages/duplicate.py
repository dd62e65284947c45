"""`GET|POST /admin/slots/{id}/duplicate` (mounted under `/admin` by `admin.router`): pick another of the
15 slots (switched-off ones first: no booth gets results from them) and write a copy of this slot's whole
configuration over it; a switched-on target asks once more before its settings are replaced."""

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError

from photochanger.admin.deps import CsrfFormDep, admin_requires
from photochanger.admin.rendering import render, rerender, see_other, translator
from photochanger.admin.routing import AdminRoute
from photochanger.admin.views import catalogue_titles
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.core.db import SessionDep
from photochanger.core.errors import ValidationFailed
from photochanger.deps import ConfigDep, ProvidersDep
from photochanger.slots import duplicate
from photochanger.slots import service as slots_service
from photochanger.slots.exceptions import SlotValidationFailed, SlotVersionConflict

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)
Writer = Annotated[Principal, admin_requires(permissions.SLOTS_WRITE)]


class DuplicateForm(BaseModel):
    """The chosen target as `slot id:version read`, and whether a switched-on target was confirmed."""

    target: Annotated[str, Field(pattern=r"^slot-\d{3}:\d{1,9}$")]
    confirm: bool = False

    @property
    def target_id(self) -> str:
        return self.target.partition(":")[0]

    @property
    def version(self) -> int:
        return int(self.target.partition(":")[2])


def _suffix(request: Request) -> str:
    return translator(request).gettext("(copy)")


async def _page(
    request: Request,
    session: SessionDep,
    config: ConfigDep,
    providers: ProvidersDep,
    slot_id: str,
    *,
    status_code: int = 200,
    banner: str | None = None,
    confirm: duplicate.Target | None = None,
    chosen: str | None = None,
) -> Response:
    slot = await slots_service.get_slot(session, config, slot_id, limit=0)
    targets = await duplicate.targets(session, config, slot.id)
    free = next((t.id for t in targets if not t.is_active), None)
    context: dict[str, Any] = {
        "slot": slot,
        "targets": targets,
        "chosen": chosen or free,
        "confirm": confirm,
        "suffix": _suffix(request),
        "titles": catalogue_titles(request, providers),
        "banner": banner,
        "banner_kind": "error",
    }
    return render(request, "slot_duplicate.html", status_code, **context)


@router.get("/slots/{slot_id}/duplicate")
async def duplicate_page(
    slot_id: str,
    request: Request,
    _principal: Writer,
    session: SessionDep,
    config: ConfigDep,
    providers: ProvidersDep,
) -> Response:
    return await _page(request, session, config, providers, slot_id)


@router.post("/slots/{slot_id}/duplicate")
async def duplicate_slot(
    slot_id: str,
    request: Request,
    principal: Writer,
    form: CsrfFormDep,
    session: SessionDep,
    config: ConfigDep,
    providers: ProvidersDep,
) -> Response:
    t = translator(request)
    try:
        body = DuplicateForm(target=form.get("target") or "", confirm=form.get("confirm") == "on")
    except ValidationError:
        raise ValidationFailed("Choose the slot to copy into.") from None
    target = next(
        (x for x in await duplicate.targets(session, config, slot_id) if x.id == body.target_id), None
    )
    if target is not None and target.is_active and not body.confirm:
        return await _page(request, session, config, providers, slot_id, status_code=409, confirm=target)
    try:
        await duplicate.duplicate_slot(
            session,
            config,
            providers,
            slot_id,
            body.target_id,
            target_version=body.version,
            suffix=_suffix(request),
            actor=principal,
        )
    except SlotVersionConflict:
        banner = t.gettext("That slot was changed meanwhile. Nothing was copied: check it and choose again.")
        return await rerender(
            session, _page, request, session, config, providers, slot_id,
            status_code=409, banner=banner, chosen=body.target_id,
        )  # fmt: skip
    except SlotValidationFailed:
        banner = t.gettext(
            "This slot's saved settings do not validate any more (e.g. a template was deleted). Fix and save them first."
        )
        return await rerender(
            session, _page, request, session, config, providers, slot_id, status_code=422, banner=banner
        )
    return see_other(f"/admin/slots/{body.target_id}?saved=1")
