"""Guest routes: the result page `/r/{job_id}`, its sized views, preview and QR codes, and the favicon."""

import secrets
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from photochanger.core.db import SessionDep
from photochanger.core.errors import NotFound, problem_responses
from photochanger.core.links import Links
from photochanger.core.storage import MediaLayout
from photochanger.core.time import ensure_utc, utcnow
from photochanger.deps import ConfigDep
from photochanger.eventpage import branding as event_branding
from photochanger.guest import service
from photochanger.i18n import LANG_QUERY, LANGUAGE_NAMES, LANGUAGES, Translator, pick_language
from photochanger.i18n import jinja as i18n_jinja
from photochanger.media import service as media_service
from photochanger.media.exceptions import TemplateMediaNotFound
from photochanger.public.service import ResultExpired, ResultNotFound
from photochanger.slots import branding

router = APIRouter(tags=["guest"])

_templates = Environment(
    loader=PackageLoader("photochanger.guest", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
i18n_jinja.install(_templates)


def _brightness(colour: str) -> float:
    """Perceived brightness 0-255 of `#rrggbb` (ITU-R BT.601 weights), to pick a readable text colour."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b


_templates.filters["brightness"] = _brightness
# One icon for the whole site: the admin ships it, guest pages and /favicon.ico reuse it.
FAVICON = Path(__file__).resolve().parent.parent / "admin" / "static" / "favicon.svg"


def page_headers(nonce: str) -> dict[str, str]:
    """Headers of every guest HTML page: a strict CSP (inline code only with this response's nonce; the
    Share button fetches the result from this origin)."""
    csp = (
        "default-src 'none'; img-src 'self'; connect-src 'self'; "
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
        "Vary": "Accept-Language, Cookie",
    }


def render_page(request: Request, template: str, status_code: int, **context: object) -> HTMLResponse:
    """A guest page in the language the browser prefers (or `?lang=`), with links to the other languages."""
    nonce = secrets.token_urlsafe(16)
    translator = Translator(pick_language(request))
    switch = [
        (code, LANGUAGE_NAMES[code], f"{request.url.path}?{LANG_QUERY}={code}")
        for code in LANGUAGES
        if code != translator.language
    ]
    html = _templates.get_template(template).render(
        nonce=nonce,
        translator=translator,
        lang=translator.language,
        switch=switch,
        chosen=request.query_params.get(LANG_QUERY) in LANGUAGES,
        **context,
    )
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


def time_tag(value: datetime, *, time_only: bool = False) -> Markup:
    """A `<time>` in UTC that the page's script rewrites in the viewer's time zone and language."""
    iso = ensure_utc(value).isoformat().replace("+00:00", "Z")
    text = ensure_utc(value).strftime("%H:%M UTC" if time_only else "%Y-%m-%d %H:%M UTC")
    style = "time" if time_only else "datetime"
    return Markup('<time datetime="{}" data-style="{}">{}</time>').format(iso, style, text)


@router.get(
    "/r/{job_id}",
    response_class=HTMLResponse,
    responses={
        404: {"description": "Unknown result (HTML page)", "content": {"text/html": {}}},
        410: {"description": "The result has expired (HTML page)", "content": {"text/html": {}}},
    },
)
async def show_result_page(job_id: str, request: Request, session: SessionDep) -> HTMLResponse:
    try:
        result = await service.get_result(session, job_id, now=utcnow())
    except ResultExpired:
        return render_page(request, "gone.html", 410, brand=None)
    except ResultNotFound:
        return render_page(request, "not_found.html", 404, brand=None)
    small, large = service.VIEW_SIDES
    views = Links.views(result.job_id)
    page: dict[str, object] = {
        "job_id": result.job_id,
        "view_url": f"{views}/{large}",
        "srcset": f"{views}/{small} {small}w, {views}/{large} {large}w",
        "download_url": Links.result(result.job_id),
        "filename": f"photo-{result.job_id[:8]}.{service.extension(result.result_type)}",
        "expires_at": result.expires_at,
        "expires_html": time_tag(result.expires_at),
    }
    # A photo of an event gets the event's branding (and counts as a page open of that event).
    event = await event_branding.event_of_job(session, job_id) if result.event_id else None
    if event is not None:
        context = await event_branding.result_page_context(session, event, job_id=result.job_id)
        return render_page(request, "event_result.html", 200, **page, **context)
    return render_page(request, "result.html", 200, **page, brand=await branding.get(session, result.slot_id))


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
    "/public/results/{job_id}/view/{long_side}",
    response_class=Response,
    responses={
        200: {
            "content": {"image/jpeg": {}},
            "description": "The guest page's image, long side 540 or 1080 px",
        },
        **_IMAGE_ERRORS,
    },
)
async def get_result_view(job_id: str, long_side: int, session: SessionDep, config: ConfigDep) -> Response:
    return _image(await service.view_image(session, config, job_id, long_side, now=utcnow()))


class LogoNotFound(NotFound):
    code = "logo_not_found"
    title = "Logo not found"


@router.get(
    "/public/slots/logo/{media_id}",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}, "image/jpeg": {}}, "description": "A slot's guest-page logo"},
        **problem_responses(LogoNotFound),
    },
)
async def get_slot_logo(media_id: str, session: SessionDep, config: ConfigDep) -> Response:
    """A template shown as some slot's guest-page logo (other templates stay private: 404)."""
    if not await branding.is_logo(session, media_id):
        raise LogoNotFound("No slot shows this as its logo.")
    try:
        data, media_type = await media_service.thumbnail(session, MediaLayout(config.media_root), media_id)
    except TemplateMediaNotFound:
        raise LogoNotFound("The logo's file is missing.") from None
    return Response(
        data,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/favicon.svg", response_class=Response, include_in_schema=False)
@router.get("/favicon.ico", response_class=Response, include_in_schema=False)
async def get_favicon() -> Response:
    return Response(
        FAVICON.read_bytes(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


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
