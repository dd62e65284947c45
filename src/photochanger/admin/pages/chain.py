"""A slot's fallback chain and hedging (`/admin/slots/{id}/chain`): the links tried after the primary
configuration, each a provider operation with its own parameters (JSON), saved through the slot service."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from photochanger.admin.deps import admin_requires, csrf_form
from photochanger.admin.rendering import render, rerender, see_other, translator
from photochanger.admin.routing import AdminRoute
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.config import AppConfig
from photochanger.core.db import SessionDep
from photochanger.slots import service as slots_service
from photochanger.slots.exceptions import SlotValidationFailed, SlotVersionConflict
from photochanger.slots.schemas import MAX_FALLBACKS, SlotRead, SlotUpdate

# Included under `/admin` by `admin.router`.
router: APIRouter = APIRouter(prefix="/slots", route_class=AdminRoute, include_in_schema=False)


def _choices(request: Request) -> list[tuple[str, str]]:
    """(`provider:operation`, title) of every operation a link may use."""
    return [
        (f"{p.id}:{op.id}", f"{p.title} · {op.title}")
        for p in slots_service.catalogue(request.app.state.providers)
        for op in p.operations
    ]


def _rows(slot: SlotRead) -> list[dict[str, str]]:
    rows = [
        {"op": f"{link.provider}:{link.operation}", "params": json.dumps(link.params, ensure_ascii=False)}
        for link in slot.fallbacks
    ]
    return rows + [{"op": "", "params": ""}] * (MAX_FALLBACKS - len(rows))


async def _page(
    request: Request,
    slot: SlotRead,
    *,
    rows: list[dict[str, str]] | None = None,
    hedge: str | None = None,
    problems: list[str] | None = None,
    banner: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "slot_chain.html",
        status_code,
        slot=slot,
        rows=rows or _rows(slot),
        hedge=hedge
        if hedge is not None
        else ("" if slot.hedge_after_seconds is None else f"{slot.hedge_after_seconds:g}"),
        choices=_choices(request),
        problems=problems or [],
        banner=banner,
        banner_kind="error" if problems else "ok",
    )


@router.get("/{slot_id}/chain")
async def chain_page(
    slot_id: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SLOTS_READ)],
    session: SessionDep,
    saved: bool = False,
) -> Response:
    config: AppConfig = request.app.state.config
    slot = await slots_service.get_slot(session, config, slot_id, limit=1)
    return await _page(request, slot, banner=translator(request).gettext("Saved.") if saved else None)


@router.post("/{slot_id}/chain")
async def save_chain(
    slot_id: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SLOTS_WRITE)],
    session: SessionDep,
) -> Response:
    form = await csrf_form(request)
    t = translator(request)
    config: AppConfig = request.app.state.config
    slot = await slots_service.get_slot(session, config, slot_id, limit=1)
    rows = [
        {"op": str(form.get(f"link{i}.op") or ""), "params": str(form.get(f"link{i}.params") or "")}
        for i in range(MAX_FALLBACKS)
    ]
    hedge = str(form.get("hedge_after_seconds") or "").strip()
    problems: list[str] = []
    links: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        if not row["op"]:
            continue
        provider, _, operation = row["op"].partition(":")
        try:
            params = json.loads(row["params"] or "{}")
        except ValueError:
            problems.append(t.gettext("Fallback %(n)s: the parameters are not a JSON object.", n=index + 1))
            continue
        links.append({"provider": provider, "operation": operation, "params": params})
    if not problems:
        try:
            body = SlotUpdate.model_validate(
                {
                    "display_name": slot.display_name,
                    "provider": slot.provider,
                    "operation": slot.operation,
                    "params": slot.params,
                    "is_active": slot.is_active,
                    "size_limit_mb": slot.size_limit_mb,
                    "output_format": slot.output_format,
                    "fallbacks": links,
                    "hedge_after_seconds": hedge or None,
                    "version": str(form.get("version") or ""),
                }
            )
            await slots_service.update_slot(
                session, config, request.app.state.providers, slot_id, body, actor=principal
            )
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
            ]
        except SlotValidationFailed as exc:
            problems = [f"{e.get('field')}: {e.get('msg')}" for e in exc.errors or []]
        except SlotVersionConflict:
            problems = [t.gettext("Someone else changed this slot; reload the page and try again.")]
    if problems:

        async def again() -> Response:
            fresh = await slots_service.get_slot(session, config, slot_id, limit=1)
            return await _page(
                request,
                fresh,
                rows=rows,
                hedge=hedge,
                problems=problems,
                banner=t.gettext("The fallbacks were not saved."),
                status_code=422,
            )

        return await rerender(session, again)
    return see_other(f"/admin/slots/{slot_id}/chain?saved=1")
