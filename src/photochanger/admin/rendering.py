"""Page rendering for the admin UI: the Jinja2 environment, security headers, CSRF tokens and the
HTML rendering of domain errors."""

import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ParamSpec

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.admin import forms
from photochanger.admin.messages import FIELD_MESSAGES, PROBLEM_MESSAGES
from photochanger.auth.cookies import new_csrf_token, set_csrf_cookie
from photochanger.auth.dependencies import CSRF_COOKIE, Principal
from photochanger.auth.exceptions import CsrfFailed
from photochanger.core.errors import PhotoChangerError
from photochanger.core.time import ensure_utc
from photochanger.i18n import Translator, pick_language
from photochanger.i18n import jinja as i18n_jinja

P = ParamSpec("P")

CSRF_FIELD = "csrf"
# A CSRF cookie minted by a page (login, or a session whose cookie was lost) lives as long as a session.
CSRF_MAX_AGE = 12 * 3600

# Everything is served from this origin: no CDN, no inline script or style (charts are inline SVG).
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}


def format_dt(value: datetime | None) -> str:
    if value is None:
        return "—"
    return ensure_utc(value).strftime("%Y-%m-%d %H:%M UTC")


def iso_utc(value: datetime | None) -> str | None:
    return ensure_utc(value).isoformat().replace("+00:00", "Z") if value is not None else None


def time_tag(value: datetime | None) -> Markup:
    """A `<time>` showing UTC that admin.js rewrites in the viewer's time zone and language."""
    if value is None:
        return Markup("—")
    return Markup('<time datetime="{}">{}</time>').format(iso_utc(value), format_dt(value))


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("photochanger.admin", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["dt"] = time_tag
    i18n_jinja.install(env)
    return env


templates = _env()


def translator(request: Request) -> Translator:
    cached: Translator | None = getattr(request.state, "admin_translator", None)
    if cached is None:
        cached = Translator(pick_language(request))
        request.state.admin_translator = cached
    return cached


def csrf_token(request: Request) -> str:
    """The double-submit token forms carry: the CSRF cookie's value, minted here when the browser has none."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "admin_new_csrf", None)
    if not token:
        token = new_csrf_token()
        request.state.admin_new_csrf = token
    return str(token)


def check_csrf_field(request: Request, submitted: object) -> None:
    """Double-submit check for HTML forms: the `csrf` field must equal the CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if (
        not cookie
        or not isinstance(submitted, str)
        or not secrets.compare_digest(cookie.encode(), submitted.encode())
    ):
        raise CsrfFailed()


def principal_of(request: Request) -> Principal | None:
    principal: Principal | None = getattr(request.state, "admin_principal", None)
    return principal


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    t = translator(request)
    principal = principal_of(request)
    token = csrf_token(request)
    html = templates.get_template(template).render(
        translator=t,
        plural_forms=t.plural_forms,
        lang=t.language,
        csrf=token,
        csrf_field=CSRF_FIELD,
        me=principal,
        can=(lambda permission: principal is not None and principal.has(permission)),
        problem=(lambda code: problem_text(request, code)),
        path=request.url.path,
        current=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
    if getattr(request.state, "admin_new_csrf", None):
        set_csrf_cookie(request, response, token, max_age=CSRF_MAX_AGE)
    return response


def error_message(request: Request, exc: PhotoChangerError) -> str:
    """The text of a domain error in the request's language: the message of its `code`, else its title."""
    t = translator(request)
    message = PROBLEM_MESSAGES.get(exc.code)
    return t.gettext(message) if message else t.gettext(exc.title)


def problem_text(request: Request, code: str) -> str:
    """The message of a problem `code` (a fallback reason such as `provider_refused`), else the code."""
    message = PROBLEM_MESSAGES.get(code)
    return translator(request).gettext(message) if message else code


def field_message(request: Request, encoded: str) -> str:
    """A field error `type|msg` in the request's language (the API's English message as the fallback)."""
    t = translator(request)
    kind, _, msg = encoded.partition("|")
    message = FIELD_MESSAGES.get(kind)
    return t.gettext(message) if message else msg


def field_messages(
    request: Request, errors: ValidationError | Sequence[Mapping[str, Any]] | None, group: str = ""
) -> dict[str, str]:
    """Field -> message in the request's language, for one group of `forms.field_errors` (the top-level
    fields by default, `"params"` for an operation's parameters)."""
    return {
        name: field_message(request, encoded) for name, encoded in forms.field_errors(errors)[group].items()
    }


def error_page(request: Request, exc: PhotoChangerError) -> HTMLResponse:
    response = render(
        request,
        "error.html",
        exc.status_code,
        message=error_message(request, exc),
        detail=exc.detail,
        code=exc.code,
    )
    for name, value in exc.headers.items():
        if name.lower() == "retry-after":
            response.headers[name] = value
    return response


def done_banner(request: Request, messages: Mapping[str, str], done: str | None) -> str | None:
    """The banner of a page reached after a form worked (`?done=<what>`), translated; None for no or an
    unknown `done`. `messages` maps each `done` to its `N_()` message."""
    message = messages.get(done or "")
    return translator(request).gettext(message) if message else None


def see_other(url: str) -> RedirectResponse:
    """The answer to a form that worked (post/redirect/get)."""
    return RedirectResponse(url, status_code=303)


async def rerender(
    session: AsyncSession, page: Callable[P, Awaitable[Response]], /, *args: P.args, **kwargs: P.kwargs
) -> Response:
    """A refused form's page again, `page(*args, **kwargs)`: the request's transaction is rolled back first,
    so nothing half-done is committed and the page reads what is stored."""
    await session.rollback()
    return await page(*args, **kwargs)
