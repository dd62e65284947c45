"""Admin HTML routes over httpx: session redirects, login messages, CSRF refusal, i18n, permissions, and the
same domain errors the JSON API returns rendered as HTML."""

import re
from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, text

from photochanger.admin import live
from photochanger.admin.pages.settings import SettingsForm
from photochanger.auth.permissions import Role
from photochanger.core.time import utcnow
from photochanger.i18n import Translator
from photochanger.models import AppSetting, AuditLog, Job, JobStatus, Slot, User
from photochanger.settings import service as settings_service
from photochanger.settings.schemas import RUNTIME_SETTING_KEYS
from photochanger.stats import rollup
from tests.admin.conftest import csrf_of, form_login
from tests.support import images
from tests.support.auth import create_user
from tests.support.jobs import add_job
from tests.support.templates import frame_png


async def _slot(app: FastAPI, slot_id: str) -> Slot:
    async with app.state.sessionmaker() as session:
        slot: Slot | None = await session.get(Slot, slot_id)
        assert slot is not None
        return slot


async def _upload_frame(ui: httpx.AsyncClient, name: str = "Gold frame") -> str:
    page = await ui.get("/admin/media")
    response = await ui.post(
        "/admin/media",
        data={"csrf": csrf_of(page.text), "name": name},
        files={"file": ("frame.png", frame_png(100, 80), "image/png")},
    )
    assert response.status_code == 303, response.text
    listing = (await ui.get("/api/template-media")).json()
    return str(next(m["id"] for m in listing if m["name"] == name))


async def _job(
    app: FastAPI,
    slot_id: str,
    *,
    status: JobStatus = JobStatus.done,
    created_at: datetime | None = None,
    expires_at: datetime | None = None,
    duration_ms: int = 1000,
) -> str:
    """A finished booth job (with result and preview files when done) for gallery, live and stats pages."""
    now = utcnow()
    job = await add_job(
        app.state.sessionmaker,
        app.state.config.media_root,
        slot_id=slot_id,
        status=status,
        created_at=created_at or now - timedelta(minutes=1),
        expires_at=expires_at or now + timedelta(hours=72),
        with_result=status == JobStatus.done,
    )
    async with app.state.sessionmaker() as session:
        row = await session.get(Job, job.id)
        assert row is not None
        row.duration_ms = duration_ms
        row.finished_at = row.created_at + timedelta(milliseconds=duration_ms)
        await session.flush()
        # The stats read whole hours from the rollups, which the job-ending path keeps; a job inserted as
        # finished needs them recomputed (else one made at 10:00:30 for 09:59:30 is missing from "24h").
        for statement in rollup.rebuild_statements(session.get_bind().dialect.name):
            await session.execute(text(statement))
        await session.commit()
    return job.id


def _frame_form(csrf: str, version: int, media_id: str | None, **extra: str) -> dict[str, str]:
    form = {
        "csrf": csrf,
        "version": str(version),
        "provider": "local",
        "operation": "frame",
        "display_name": "Wedding",
        "is_active": "on",
        "output_format": "jpeg",
        "on_failure": "error",
        "size_limit_mb": "",
        "param.fit": "cover",
        "param.background": "#ffffff",
    }
    if media_id is not None:
        form["param.frame_media_id"] = media_id
    form.update(extra)
    return form


# --- sessions ---------------------------------------------------------------------------------------------


async def test_pages_redirect_to_the_login_page_without_a_session(client: httpx.AsyncClient) -> None:
    for path in ("/admin", "/admin/slots/slot-001", "/admin/settings", "/admin/users"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login?next=")
    post = await client.post("/admin/slots/slot-001", data={"csrf": "x"})
    assert post.status_code == 303
    assert post.headers["location"].startswith("/admin/login")


async def test_an_expired_access_cookie_with_a_session_left_gets_the_refresh_page(
    client: httpx.AsyncClient,
) -> None:
    client.cookies.set("pc_csrf", "left-over")
    response = await client.get("/admin/stats")
    assert response.status_code == 401
    assert 'id="refresh"' in response.text
    assert 'data-next="/admin/stats"' in response.text


async def test_login_form_sets_the_auth_cookies_and_opens_the_dashboard(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_user(app, "anna", role=Role.admin)
    response = await form_login(client, "anna")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin"
    cookies = response.headers.get_list("set-cookie")
    access = next(c for c in cookies if c.startswith("pc_access="))
    refresh = next(c for c in cookies if c.startswith("pc_refresh="))
    assert "HttpOnly" in access
    assert "SameSite=strict" in access
    assert "Path=/api/auth" in refresh
    dashboard = await client.get("/admin")
    assert dashboard.status_code == 200
    assert dashboard.text.count('class="card slot"') == 15
    assert "http://booth.test/api/ingest/slot-003" in dashboard.text
    assert "default-src 'self'" in dashboard.headers["content-security-policy"]
    # The JSON API accepts the same session.
    me = await client.get("/api/auth/me")
    assert me.json()["username"] == "anna"


async def test_wrong_password_and_throttling_show_clear_messages(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_user(app, "boris", role=Role.admin)
    wrong = await form_login(client, "boris", "not the password")
    assert wrong.status_code == 401
    assert "Wrong username or password." in wrong.text
    assert "pc_access" not in wrong.headers.get("set-cookie", "")
    for _ in range(9):
        await form_login(client, "boris", "not the password")
    throttled = await form_login(client, "boris")
    assert throttled.status_code == 429
    assert "Too many failed attempts. Try again in 15 min." in throttled.text
    assert int(throttled.headers["retry-after"]) > 800


async def test_login_without_the_csrf_token_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    await create_user(app, "clara", role=Role.admin)
    await client.get("/admin/login")
    response = await client.post("/admin/login", data={"username": "clara", "password": "x" * 30})
    assert response.status_code == 403
    assert "The form expired" in response.text


async def test_logout_revokes_the_session(admin_ui: httpx.AsyncClient) -> None:
    page = await admin_ui.get("/admin")
    access = admin_ui.cookies.get("pc_access")
    response = await admin_ui.post("/admin/logout", data={"csrf": csrf_of(page.text)})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?bye=1"
    # The old access token died with its refresh family, not just its cookie.
    assert access is not None
    stale = await admin_ui.get("/api/auth/me", headers={"Authorization": f"Bearer {access}"})
    assert stale.status_code == 401


# --- CSRF --------------------------------------------------------------------------------------------------


async def test_forms_without_the_csrf_token_are_refused_and_change_nothing(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    form = {"t_sync_response_seconds": "60", "result_ttl_hours": "72", "slot_concurrency": "4"}
    missing = await admin_ui.post("/admin/settings", data=form)
    forged = await admin_ui.post("/admin/settings", data={**form, "csrf": "forged"})
    for response in (missing, forged):
        assert response.status_code == 403
        assert 'data-code="csrf_failed"' in response.text
    async with app.state.sessionmaker() as session:
        assert await session.get(AppSetting, "t_sync_response_seconds") is None
    upload = await admin_ui.post(
        "/admin/media", data={"csrf": "forged"}, files={"file": ("f.png", frame_png(), "image/png")}
    )
    assert upload.status_code == 403
    assert (await admin_ui.get("/api/template-media")).json() == []


# --- i18n --------------------------------------------------------------------------------------------------


async def test_language_follows_the_browser_and_the_switch(client: httpx.AsyncClient) -> None:
    russian = await client.get("/admin/login", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert '<html lang="ru">' in russian.text
    assert "Войти" in russian.text
    english = await client.get("/admin/login", headers={"Accept-Language": "de-DE,en;q=0.5"})
    assert '<html lang="en">' in english.text

    switched = await client.get("/admin/lang/en?next=/admin/login")
    assert switched.status_code == 303
    assert switched.headers["location"] == "/admin/login"
    assert "pc_lang=en" in switched.headers["set-cookie"]
    after = await client.get("/admin/login", headers={"Accept-Language": "ru"})
    assert '<html lang="en">' in after.text
    assert "Sign in" in after.text

    offsite = await client.get("/admin/lang/ru?next=https://evil.example/")
    assert offsite.headers["location"] == "/admin"


async def test_russian_plurals_follow_babel_rules(admin_ui: httpx.AsyncClient) -> None:
    ru = Translator("ru")
    assert [ru.ngettext("failure", "failures", n) for n in (0, 1, 2, 5, 21, 22)] == [
        "ошибок",
        "ошибка",
        "ошибки",
        "ошибок",
        "ошибка",
        "ошибки",
    ]
    assert ru.plural_forms("failure", "failures") == {"one": "ошибка", "few": "ошибки", "many": "ошибок"}
    dashboard = await admin_ui.get("/admin", headers={"Accept-Language": "ru"})
    assert dashboard.status_code == 200
    # No job in the last hour: "0 ошибок", "0 таймаутов" (not "0 ошибки").
    assert re.search(
        r'<b data-outcome="failed">0</b> <span data-outcome-label="failed"[^>]*>ошибок</span>', dashboard.text
    )
    assert re.search(r'<b data-outcome="timeout">0</b> <span[^>]*>таймаутов</span>', dashboard.text)


# --- permissions -----------------------------------------------------------------------------------------


async def test_operator_sees_no_write_controls_and_write_routes_are_refused(
    app: FastAPI, operator_ui: httpx.AsyncClient
) -> None:
    dashboard = await operator_ui.get("/admin")
    assert dashboard.status_code == 200
    assert 'href="/admin/settings"' not in dashboard.text
    assert 'href="/admin/users"' not in dashboard.text
    editor = await operator_ui.get("/admin/slots/slot-003")
    assert editor.status_code == 200
    assert "<fieldset disabled>" in editor.text
    assert 'type="submit" class="primary"' not in editor.text
    media = await operator_ui.get("/admin/media")
    assert 'action="/admin/media"' not in media.text
    csrf = csrf_of(dashboard.text)
    before = await _slot(app, "slot-003")
    for path, data in (
        ("/admin/slots/slot-003", _frame_form(csrf, before.version, "x")),
        ("/admin/settings", {"csrf": csrf, "t_sync_response_seconds": "60"}),
        ("/admin/settings/ingest-password", {"csrf": csrf}),
        ("/admin/users", {"csrf": csrf, "username": "mallory", "password": "x" * 20, "role": "admin"}),
        ("/admin/media/anything/delete", {"csrf": csrf}),
    ):
        response = await operator_ui.post(path, data=data)
        assert response.status_code == 403, path
        assert 'data-code="forbidden"' in response.text
    for path in ("/admin/settings", "/admin/users", "/admin/audit"):
        assert (await operator_ui.get(path)).status_code == 403
    assert (await _slot(app, "slot-003")).version == before.version
    async with app.state.sessionmaker() as session:
        assert (await session.execute(select(User).where(User.username == "mallory"))).first() is None


# --- slot editor -------------------------------------------------------------------------------------------


async def test_operation_switch_renders_the_operation_form(admin_ui: httpx.AsyncClient) -> None:
    frame = await admin_ui.get("/admin/slots/slot-003?provider=local&operation=frame")
    assert 'name="param.frame_media_id"' not in frame.text  # no template media yet: a hint instead
    assert "No template media yet" in frame.text
    assert 'name="param.fit"' in frame.text
    assert 'type="color"' in frame.text
    gemini = await admin_ui.get("/admin/slots/slot-003?provider=gemini")
    assert '<textarea id="p-prompt"' in gemini.text
    assert 'name="param.template_media_ids.present"' in gemini.text


async def test_the_slot_editor_in_russian_translates_provider_operation_parameters_and_options(
    admin_ui: httpx.AsyncClient,
) -> None:
    ru = (await admin_ui.get("/admin/slots/slot-003?provider=local&operation=filter&lang=ru")).text
    assert '<option value="local" selected>Локально (без сети)</option>' in ru
    assert '<option value="filter" selected>Фильтр</option>' in ru
    assert "Цветовой фильтр для всего фото." in ru  # a parameter's help text
    assert '<option value="bw_high_contrast">контрастное ч/б</option>' in ru  # noqa: RUF001 - value kept, label translated
    assert "bw_high_contrast</option>" not in ru
    frame = (await admin_ui.get("/admin/slots/slot-003?provider=local&operation=frame&lang=ru")).text
    assert ">Цвет фона</label>" in frame
    assert re.search(r'<option value="cover"( selected)?>заполнить кадр</option>', frame)
    en = (await admin_ui.get("/admin/slots/slot-003?provider=local&operation=filter&lang=en")).text
    assert '<option value="bw_high_contrast">bw high contrast</option>' in en
    assert "A colour filter applied to the whole photo." in en


async def test_saving_a_frame_slot_updates_it_and_shows_inline_errors_first(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    media_id = await _upload_frame(admin_ui)
    page = await admin_ui.get("/admin/slots/slot-003?provider=local&operation=frame")
    csrf = csrf_of(page.text)
    assert f'value="{media_id}"' in page.text
    version = (await _slot(app, "slot-003")).version

    invalid = await admin_ui.post(
        "/admin/slots/slot-003", data=_frame_form(csrf, version, None, **{"param.background": "red"})
    )
    assert invalid.status_code == 422
    assert 'data-field="frame_media_id"' in invalid.text
    assert re.search(r'data-field="frame_media_id">.*?class="field-error"', invalid.text, re.S)
    assert re.search(r'data-field="background">.*?Wrong format\.', invalid.text, re.S)
    assert (await _slot(app, "slot-003")).version == version

    saved = await admin_ui.post("/admin/slots/slot-003", data=_frame_form(csrf, version, media_id))
    assert saved.status_code == 303
    assert saved.headers["location"] == "/admin/slots/slot-003?saved=1"
    slot = await _slot(app, "slot-003")
    assert (slot.provider, slot.operation, slot.version) == ("local", "frame", version + 1)
    assert slot.settings["params"]["frame_media_id"] == media_id
    assert slot.updated_by == "ui-admin"
    confirmed = await admin_ui.get(saved.headers["location"])
    assert "Saved." in confirmed.text


async def test_a_stale_version_shows_the_conflict_message(app: FastAPI, admin_ui: httpx.AsyncClient) -> None:
    media_id = await _upload_frame(admin_ui)
    page = await admin_ui.get("/admin/slots/slot-004?provider=local&operation=frame")
    csrf = csrf_of(page.text)
    version = (await _slot(app, "slot-004")).version
    first = await admin_ui.post("/admin/slots/slot-004", data=_frame_form(csrf, version, media_id))
    assert first.status_code == 303
    stale = await admin_ui.post(
        "/admin/slots/slot-004", data=_frame_form(csrf, version, media_id, display_name="Other")
    )
    assert stale.status_code == 409
    assert f"now version {version + 1}" in stale.text
    assert 'href="/admin/slots/slot-004">Reload the slot' in stale.text
    assert (await _slot(app, "slot-004")).display_name == "Wedding"


async def test_unknown_slot_renders_the_not_found_error_as_html(admin_ui: httpx.AsyncClient) -> None:
    response = await admin_ui.get("/admin/slots/slot-999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-code="slot_not_found"' in response.text
    russian = await admin_ui.get("/admin/slots/slot-999", headers={"Accept-Language": "ru"})
    assert russian.status_code == 404
    assert (
        '<p class="banner error" role="alert" data-code="slot_not_found">Такого слота нет.</p>'
        in russian.text
    )
    assert "<summary>Технические подробности</summary>" in russian.text
    # Plural rules in the slot editor: 20 -> "попыток".
    editor = await admin_ui.get("/admin/slots/slot-001", headers={"Accept-Language": "ru"})
    assert "Последние 20 попыток, новые сверху." in editor.text


# --- test run, gallery -------------------------------------------------------------------------------------


async def test_test_run_shows_original_and_result_side_by_side(admin_ui: httpx.AsyncClient) -> None:
    page = await admin_ui.get("/admin/slots/slot-001/test")
    response = await admin_ui.post(
        "/admin/slots/slot-001/test",
        data={"csrf": csrf_of(page.text)},
        files={"file": ("photo.jpg", images.jpeg(320, 240), "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    assert re.search(
        r'<img src="data:image/jpeg;base64,[^"]+" alt="Original" id="test-original">', response.text
    )
    match = re.search(r'src="(/public/results/[^"]+)" alt="Result" id="test-result"', response.text)
    assert match is not None
    assert re.search(r"Done in \d+\.\d s", response.text)
    result = await admin_ui.get(match.group(1))
    assert result.status_code == 200
    assert images.decode(result.content).size == (320, 240)

    broken = await admin_ui.post(
        "/admin/slots/slot-001/test",
        data={"csrf": csrf_of(page.text)},
        files={"file": ("photo.jpg", b"not an image at all", "image/jpeg")},
    )
    assert broken.status_code == 422
    assert 'id="test-error"' in broken.text


async def test_gallery_lists_results_marks_expired_and_offers_the_zip(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    now = utcnow()
    live_job = await _job(app, "slot-002", created_at=now - timedelta(minutes=5))
    expired_job = await _job(
        app, "slot-002", created_at=now - timedelta(days=5), expires_at=now - timedelta(days=1)
    )
    page = await admin_ui.get("/admin/slots/slot-002/gallery")
    assert page.status_code == 200
    assert f'data-job="{live_job}"' in page.text
    assert f'href="/public/results/{live_job}" download' in page.text
    tile = re.search(rf'<figure class="tile expired" data-job="{expired_job}">.*?</figure>', page.text, re.S)
    assert tile is not None
    assert "download" not in tile.group(0)
    assert 'action="/admin/slots/slot-002/results.zip"' in page.text  # says when there is nothing (issue 20)


async def test_live_stream_sends_the_state_at_once_and_again_on_change(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    config = app.state.config
    polls = 0

    async def build(session: object) -> object:
        nonlocal polls
        polls += 1
        async with app.state.sessionmaker() as own:
            state = await live.gallery_state(own, config, "slot-006", limit=5)
        if polls == 2:
            await _job(app, "slot-006")
        return state

    chunks = [
        chunk
        # Long enough for several polls even on a loaded machine; the stream ends by itself.
        async for chunk in live.stream(app.state.sessionmaker, build, poll_seconds=0.05, stream_seconds=3.0)
    ]
    events = [c for c in chunks if c.startswith("event: state")]
    assert chunks[0] == "retry: 2000\n\n"
    assert len(events) == 2
    assert '"results":[]' in events[0]
    assert '"job_id"' in events[1]
    assert any(c == ": idle\n\n" for c in chunks)
    # The endpoint streams to signed-in users only (the browser suite watches it deliver a result).
    assert (await client.get("/admin/events")).status_code == 303


# --- template media, settings, users, audit, stats ------------------------------------------------------


async def test_template_delete_is_blocked_while_a_slot_uses_it(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    media_id = await _upload_frame(admin_ui, "Used frame")
    page = await admin_ui.get("/admin/slots/slot-007?provider=local&operation=frame")
    version = (await _slot(app, "slot-007")).version
    saved = await admin_ui.post(
        "/admin/slots/slot-007", data=_frame_form(csrf_of(page.text), version, media_id)
    )
    assert saved.status_code == 303
    library = await admin_ui.get("/admin/media")
    assert "Used by slot-007" in library.text
    blocked = await admin_ui.post(f"/admin/media/{media_id}/delete", data={"csrf": csrf_of(library.text)})
    assert blocked.status_code == 409
    assert "Used by slot-007. Change these slots first." in blocked.text
    assert len((await admin_ui.get("/api/template-media")).json()) == 1

    unused = await _upload_frame(admin_ui, "Spare frame")
    deleted = await admin_ui.post(f"/admin/media/{unused}/delete", data={"csrf": csrf_of(library.text)})
    assert deleted.status_code == 303
    assert [m["id"] for m in (await admin_ui.get("/api/template-media")).json()] == [media_id]


async def test_settings_save_validates_bounds_and_rotation_needs_confirmation(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    page = await admin_ui.get("/admin/settings")
    csrf = csrf_of(page.text)
    values = {
        "t_sync_response_seconds": "60",
        "result_ttl_hours": "48",
        "slot_concurrency": "4",
        "provider_concurrency": "8",
        "global_concurrency": "16",
        "upload_max_mb": "20",
    }
    out_of_bounds = await admin_ui.post(
        "/admin/settings", data={**values, "csrf": csrf, "result_ttl_hours": "0"}
    )
    assert out_of_bounds.status_code == 422
    assert "Some values are out of bounds." in out_of_bounds.text
    saved = await admin_ui.post("/admin/settings", data={**values, "csrf": csrf})
    assert saved.status_code == 303
    async with app.state.sessionmaker() as session:
        runtime = await settings_service.load(session)
    assert (runtime.t_sync_response_seconds, runtime.result_ttl_hours) == (60, 48)

    rotate = {"csrf": csrf, "new_password": "booth-secret-2", "repeat_password": "booth-secret-2"}
    unconfirmed = await admin_ui.post("/admin/settings/ingest-password", data=rotate)
    assert "Please confirm the rotation." in unconfirmed.text
    mismatch = await admin_ui.post(
        "/admin/settings/ingest-password", data={**rotate, "repeat_password": "other", "confirm": "on"}
    )
    assert "The two passwords differ." in mismatch.text
    rotated = await admin_ui.post("/admin/settings/ingest-password", data={**rotate, "confirm": "on"})
    assert rotated.status_code == 303
    shown = await admin_ui.get(rotated.headers["location"])
    # UTC in the HTML, inside a <time> that admin.js rewrites in the viewer's time zone.
    assert re.search(
        r'Set on <time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time> by ui-admin\.',
        shown.text,
    )
    assert "booth-secret-2" not in shown.text


async def test_users_page_creates_and_guards_accounts_and_the_audit_log_shows_it(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    page = await admin_ui.get("/admin/users")
    csrf = csrf_of(page.text)
    weak = await admin_ui.post(
        "/admin/users", data={"csrf": csrf, "username": "dora", "password": "short", "role": "operator"}
    )
    assert weak.status_code == 422
    assert "Passwords are 12 to 1024 characters long." in weak.text
    created = await admin_ui.post(
        "/admin/users", data={"csrf": csrf, "username": "dora", "password": "x" * 16, "role": "operator"}
    )
    assert created.status_code == 303
    taken = await admin_ui.post(
        "/admin/users", data={"csrf": csrf, "username": "dora", "password": "x" * 16, "role": "operator"}
    )
    assert taken.status_code == 409
    assert "That username is already taken." in taken.text
    async with app.state.sessionmaker() as session:
        me = (await session.execute(select(User).where(User.username == "ui-admin"))).scalar_one()
        dora = (await session.execute(select(User).where(User.username == "dora"))).scalar_one()
    self_delete = await admin_ui.post(f"/admin/users/{me.id}/delete", data={"csrf": csrf})
    assert self_delete.status_code == 409
    promoted = await admin_ui.post(f"/admin/users/{dora.id}/role", data={"csrf": csrf, "role": "admin"})
    assert promoted.status_code == 303
    audit = await admin_ui.get("/admin/audit?action=user.role")
    assert audit.status_code == 200
    assert "user.role" in audit.text
    assert f"user:{dora.id}" in audit.text
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(AuditLog.action).where(AuditLog.actor == "ui-admin"))).scalars()
        assert {"user.create", "user.role"} <= set(rows)


async def test_stats_page_draws_outcomes_and_latency_as_inline_svg(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    empty = await admin_ui.get("/admin/stats?window=1h")
    assert 'id="stats-empty"' in empty.text
    await _job(app, "slot-008", duration_ms=1200)
    await _job(app, "slot-008", duration_ms=3400)
    await _job(app, "slot-009", status=JobStatus.failed, duration_ms=500)
    page = await admin_ui.get("/admin/stats?window=24h")
    assert page.status_code == 200
    outcomes = re.search(r'<figure class="chart" id="chart-outcomes">.*?</figure>', page.text, re.S)
    latency = re.search(r'<figure class="chart" id="chart-latency">.*?</figure>', page.text, re.S)
    assert outcomes is not None
    assert latency is not None
    assert "<svg" in outcomes.group(0)
    # Slots by their names, not ids (issue 20).
    assert "Slot 8: done 2" in outcomes.group(0)
    assert "Slot 9: failed 1" in outcomes.group(0)
    assert '<div class="card stat" id="shots-per-hour"><b>0.1</b>' in page.text  # 3 shots in 24 h
    assert 'class="seg-p95"' in latency.group(0)
    bad = await admin_ui.get("/admin/stats?window=1y")
    assert bad.status_code == 422


def test_the_settings_form_has_a_field_for_every_runtime_setting() -> None:
    assert tuple(SettingsForm.model_fields) == RUNTIME_SETTING_KEYS
