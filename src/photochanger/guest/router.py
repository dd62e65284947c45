"""Guest routes: the result page `/r/{job_id}`, its preview and the QR codes of its link."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from photochanger.config import AppConfig
from photochanger.core.db import SessionDep
from photochanger.core.errors import problem_responses
from photochanger.core.time import utcnow
from photochanger.guest import service
from photochanger.public.service import ResultExpired, ResultNotFound

router = APIRouter(tags=["guest"])

_templates = Environment(
    loader=PackageLoader("photochanger.guest", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def get_config(request: Request) -> AppConfig:
    config: AppConfig = request.app.state.config
    return config


ConfigDep = Annotated[AppConfig, Depends(get_config)]


def page_headers(nonce: str) -> dict[str, str]:
    """Headers of every guest HTML page: a strict CSP (inline code only with this response's nonce)."""
    csp = (
        "default-src 'none'; img-src 'self'; "
        f"style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": csp,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "X-Robots-Tag": "noindex, nofollow",
    }


def _page(template: str, status_code: int, **context: object) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    html = _templates.get_template(template).render(nonce=nonce, **context)
    return HTMLResponse(html, status_code=status_code, headers=page_headers(nonce))


def _image(image: service.GuestImage) -> Response:
    # `private`: a guest's photo and its link belong in the guest's own browser cache, never in a shared
    # cache (a proxy at the venue, a CDN) that would serve them to the next person asking.
    return Response(
        image.data,
        media_type=image.media_type,
        headers={
            "Cache-Control": f"private, max-age={image.max_age}, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(
    "/r/{job_id}",
    response_class=HTMLResponse,
    responses={
        404: {"description": "Unknown result (HTML page)", "content": {"text/html": {}}},
        410: {"description": "The result has expired (HTML page)", "content": {"text/html": {}}},
    },
)
async def show_result_page(job_id: str, session: SessionDep) -> HTMLResponse:
    try:
        result = await service.get_result(session, job_id, now=utcnow())
    except ResultExpired:
        return _page("gone.html", 410)
    except ResultNotFound:
        return _page("not_found.html", 404)
    expires = result.expires_at.isoformat().replace("+00:00", "Z")
    return _page(
        "result.html",
        200,
        job_id=result.job_id,
        preview_url=f"/public/results/{result.job_id}/preview",
        download_url=f"/public/results/{result.job_id}",
        expires_at=expires,
        expires_text=result.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
    )


_IMAGE_ERRORS = problem_responses(ResultNotFound, ResultExpired)


@router.get(
    "/public/results/{job_id}/preview",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The preview, long side 320 px"},
        **_IMAGE_ERRORS,
    },
)
async def get_result_preview(job_id: str, session: SessionDep, config: ConfigDep) -> Response:
    return _image(await service.preview_image(session, config, job_id, now=utcnow()))


@router.get(
    "/public/results/{job_id}/qr.svg",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "QR code of the guest link"},
        **_IMAGE_ERRORS,
    },
)
async def get_result_qr_svg(job_id: str, session: SessionDep, config: ConfigDep) -> Response:
    return _image(await service.qr_image(session, config, job_id, "svg", now=utcnow()))


@router.get(
    "/public/results/{job_id}/qr.png",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "QR code of the guest link"},
        **_IMAGE_ERRORS,
    },
)
async def get_result_qr_png(job_id: str, session: SessionDep, config: ConfigDep) -> Response:
    return _image(await service.qr_image(session, config, job_id, "png", now=utcnow()))
