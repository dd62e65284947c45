"""The admin UI in real headless Chromium (Debian's, driven by Playwright) against the real server: the
issue's scenario end to end, with no console errors, a screenshot of every page at desktop and phone
width, and no horizontal overflow on a phone."""

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    ViewportSize,
    async_playwright,
)
from playwright.async_api import expect as pw_expect

from photochanger.auth.permissions import Role
from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.settings import service as settings_service
from photochanger.users import service as auth_service
from tests.ingest.conftest import booth_fields
from tests.support import images
from tests.support.artifacts import ARTIFACTS
from tests.support.auth import DEFAULT_PASSWORD
from tests.support.ci import require_tool
from tests.support.server import ServerProcess, config_env, free_port, running_server
from tests.support.templates import frame_png

SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
OLD_INGEST_PASSWORD = "booth-old-pass-1"
NEW_INGEST_PASSWORD = "booth-new-pass-2"
FRAME_SIZE = (300, 200)
pytestmark = pytest.mark.slow


@pytest.fixture
def server_port() -> int:
    return free_port()


@pytest.fixture
def config_overrides(server_port: int) -> dict[str, Any]:
    return {"public_base_url": f"http://127.0.0.1:{server_port}", "log_format": "json"}


async def _seed(config: AppConfig) -> None:
    """The admin and operator accounts and the ingest password, before the server's first start."""
    engine = create_engine(config.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            for name, role in (("ui-admin", Role.admin), ("ui-operator", Role.operator)):
                await auth_service.create_user(
                    session, username=name, password=DEFAULT_PASSWORD, role=role, actor="test"
                )
            await settings_service.set_ingest_password(session, OLD_INGEST_PASSWORD, actor="test")
    finally:
        await engine.dispose()


@pytest.fixture
async def server(config: AppConfig, server_port: int, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    await _seed(config)
    with running_server(config_env(config), tmp_path / "server.log", port=server_port) as process:
        yield process


@pytest.fixture
def chromium() -> str:
    return require_tool("chromium", "the admin UI is tested in a real browser")


class Watch:
    """Console errors, uncaught exceptions and failed requests of a page, checked after every step."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", self._failed)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and "EventSource" not in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def _failed(self, request: Request) -> None:
        failure = request.failure or ""
        # Leaving a page aborts its live-update stream (and, on a quick redirect such as the login's, the
        # icon fetch), and a download is handed to the download manager.
        aborted_ok = ("/admin/events", "/public/results/", "/admin/static/favicon.svg")
        if "ERR_ABORTED" in failure and any(part in request.url for part in aborted_ok):
            return
        self.problems.append(f"request failed: {request.method} {request.url} {failure}")

    def check(self, where: str, *, allow: tuple[int, ...] = ()) -> None:
        """No problems since the last check, except Chromium's note on a document answered with one of the
        `allow`ed statuses (a form re-rendered with its 401/409/422 message)."""
        expected = tuple(f"status of {status} " for status in allow)
        problems = [p for p in self.problems if not any(e in p for e in expected)]
        self.problems = []
        assert not problems, f"{where}: {problems}"


async def snap(page: Page, watch: Watch, name: str, *, allow: tuple[int, ...] = ()) -> None:
    """Screenshot at desktop and phone width; on the phone nothing may scroll sideways."""
    await page.wait_for_load_state("load")
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    await page.set_viewport_size(PHONE)
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    await page.screenshot(path=SCREENSHOTS / f"{name}-phone.png", full_page=True)
    await page.set_viewport_size(DESKTOP)
    assert overflow <= 0, f"{name}: {overflow}px of horizontal overflow at 390 px"
    watch.check(name, allow=allow)


def booth_upload(server: ServerProcess, slot_id: str, password: str, shot: int) -> httpx.Response:
    fields = booth_fields(password, id=f"SHOT-{shot:05d}", hash=f"{shot:040x}")
    photo = images.jpeg(640, 480, color=(240, 200, 10))
    return httpx.post(
        f"{server.base_url}/api/ingest/{slot_id}",
        data=fields,
        files={"fileToUpload": (f"IMG_{shot}.JPG", photo, "image/jpeg")},
        timeout=60,
    )


async def login(page: Page, username: str, password: str = DEFAULT_PASSWORD) -> None:
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")


async def test_admin_ui_end_to_end_in_chromium(server: ServerProcess, chromium: str, tmp_path: Path) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    started = time.monotonic()
    base = server.base_url
    frame_file = tmp_path / "gold-frame.png"
    frame_file.write_bytes(frame_png(*FRAME_SIZE, border=24))
    photo_file = tmp_path / "guest.jpg"
    photo_file.write_bytes(images.jpeg(800, 600, color=(60, 140, 220)))

    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context: BrowserContext = await browser.new_context(
                base_url=base, viewport=DESKTOP, locale="en-US", accept_downloads=True
            )
            await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            page = await context.new_page()
            page.on("dialog", lambda dialog: dialog.accept())
            watch = Watch(page)

            # --- login: a wrong password first, then the dashboard ------------------------------------
            await page.goto("/admin")
            await pw_expect(page).to_have_url(re.compile(r"/admin/login\?next="))
            await snap(page, watch, "01-login")
            await login(page, "ui-admin", "not the password")
            await pw_expect(page.locator("#login-error")).to_have_text("Wrong username or password.")
            await snap(page, watch, "02-login-wrong-password", allow=(401,))
            await login(page, "ui-admin")
            await pw_expect(page).to_have_url(f"{base}/admin")
            await pw_expect(page.locator("article.slot")).to_have_count(15)
            card = page.locator('article[data-slot="slot-003"]')
            await card.locator("button[data-copy]").click()
            assert await page.evaluate("navigator.clipboard.readText()") == f"{base}/api/ingest/slot-003"
            await snap(page, watch, "03-dashboard")

            # --- template media: upload the frame ----------------------------------------------------
            await page.click("nav.nav >> text=Template media")
            await page.fill("#media-upload input[name=name]", "Gold frame")
            await page.set_input_files("#media-upload input[type=file]", str(frame_file))
            await page.click("#media-upload button[type=submit]")
            await pw_expect(page.locator(".banner.ok")).to_have_text("Uploaded.")
            await pw_expect(page.locator(".media-item img")).to_have_count(1)
            await page.wait_for_function(
                "() => [...document.querySelectorAll('.media-item img')].every(i => i.complete && i.naturalWidth)"
            )
            await snap(page, watch, "04-media")

            # --- slot editor: slot-003 becomes a local frame slot; a stale tab gets the 409 ----------
            await page.goto("/admin/slots/slot-003")
            stale = await context.new_page()
            stale_watch = Watch(stale)
            await stale.goto("/admin/slots/slot-003")
            await page.select_option("select[name=provider]", "local")
            await page.select_option("select[name=operation]", "frame")
            await pw_expect(page).to_have_url(re.compile(r"operation=frame"))
            await page.fill("input[name=display_name]", "Wedding frame")
            await page.click("#slot-form button[type=submit]")
            # Nothing chosen for the required frame: the 422 comes back as an inline field error.
            await pw_expect(page.locator('[data-field="frame_media_id"] .field-error')).to_be_visible()
            await page.screenshot(path=SCREENSHOTS / "05-slot-editor-422.png", full_page=True)
            watch.check("slot editor 422", allow=(422,))
            await page.click(".media-choice:has-text('Gold frame')")
            await page.select_option("select[name='param.fit']", "contain")
            await page.click("#slot-form button[type=submit]")
            await pw_expect(page.locator(".banner.ok")).to_have_text("Saved.")
            await pw_expect(page.locator("input[name=display_name]")).to_have_value("Wedding frame")
            await snap(page, watch, "06-slot-editor")
            await stale.fill("input[name=display_name]", "Someone else's name")
            await stale.click("#slot-form button[type=submit]")
            await pw_expect(stale.locator(".banner.error")).to_contain_text("Someone else changed this slot")
            await pw_expect(stale.get_by_role("link", name="Reload the slot")).to_be_visible()
            await stale.screenshot(path=SCREENSHOTS / "06-slot-editor-conflict.png", full_page=True)
            stale_watch.check("slot editor conflict", allow=(409,))
            await stale.close()

            # --- test run: original and framed result side by side ----------------------------------
            await page.click("nav.actions >> text=Test run")
            await page.set_input_files("#test-form input[type=file]", str(photo_file))
            await page.click("#test-form button[type=submit]")
            await pw_expect(page.locator("#test-time")).to_have_text(re.compile(r"^Done in \d+\.\d s$"))
            result = page.locator("#test-result")
            await pw_expect(result).to_be_visible()
            await page.wait_for_load_state("load")
            size = await result.evaluate("img => [img.naturalWidth, img.naturalHeight]")
            assert tuple(size) == FRAME_SIZE
            assert await page.locator("#test-original").evaluate("img => img.naturalWidth") == 640
            await snap(page, watch, "07-test-run")

            # --- gallery: the test result, its download, then a booth result arriving live ------------
            await page.click("nav.actions >> text=Gallery")
            tiles = page.locator("#gallery figure.tile")
            await pw_expect(tiles).to_have_count(1)
            async with page.expect_download() as info:
                await tiles.first.locator("a[download]").click()
            download = await info.value
            saved = tmp_path / "download.jpg"
            await download.save_as(saved)
            assert images.decode(saved.read_bytes()).size == FRAME_SIZE
            await pw_expect(page.locator("#live")).to_be_visible()
            first = booth_upload(server, "slot-003", OLD_INGEST_PASSWORD, 1)
            assert first.status_code == 200, first.text
            await pw_expect(tiles).to_have_count(2, timeout=10_000)
            await pw_expect(tiles.first).to_have_attribute("data-job", first.headers["x-job-id"])
            await snap(page, watch, "08-gallery")
            await page.click("#public-open button")
            link = page.locator("#public-link")
            await pw_expect(link).to_have_text(re.compile(rf"^{re.escape(base)}/g/[A-Za-z0-9_-]+$"))
            public = await context.new_page()
            public_watch = Watch(public)
            errors: list[str] = []
            public.on("response", lambda r: errors.append(r.url) if r.status >= 400 else None)
            await public.goto(await link.inner_text())
            await pw_expect(public.locator(".grid img")).to_have_count(2)
            await public.wait_for_load_state("load")
            await public.screenshot(path=SCREENSHOTS / "08-public-gallery.png", full_page=True)
            # Every request the page made succeeded, its favicon included (no 404 in the console).
            assert errors == []
            public_watch.check("public gallery")
            await public.close()

            # --- the dashboard picks up the next booth result live -----------------------------------
            await page.click("nav.nav >> text=Slots")
            await pw_expect(page.locator("#live")).to_be_visible()
            second = booth_upload(server, "slot-003", OLD_INGEST_PASSWORD, 2)
            assert second.status_code == 200, second.text
            thumb = page.locator('article[data-slot="slot-003"] [data-role=thumb] img')
            await pw_expect(thumb).to_have_attribute("data-job", second.headers["x-job-id"], timeout=10_000)
            await pw_expect(page.locator('article[data-slot="slot-003"] [data-outcome=done]')).to_have_text(
                "2"
            )
            await snap(page, watch, "09-dashboard-live")

            # --- settings: rotate the ingest password; the old one is refused at once ----------------
            await page.click("nav.nav >> text=Settings")
            await snap(page, watch, "10-settings")
            await page.fill("input[name=new_password]", NEW_INGEST_PASSWORD)
            await page.fill("input[name=repeat_password]", NEW_INGEST_PASSWORD)
            await page.check("input[name=confirm]")
            await page.click("#ingest-password button[type=submit]")
            await pw_expect(page.locator(".banner.ok")).to_have_text("Ingest password rotated.")
            # The time is shown in the browser's zone and language (en-US here), not as UTC.
            await pw_expect(page.locator("#ingest-state")).to_have_text(
                re.compile(r"^Set on [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d\s[AP]M by ui-admin\.$")
            )
            assert NEW_INGEST_PASSWORD not in await page.content()
            refused = booth_upload(server, "slot-003", OLD_INGEST_PASSWORD, 3)
            assert refused.status_code == 401, refused.text
            assert booth_upload(server, "slot-003", NEW_INGEST_PASSWORD, 4).status_code == 200
            await snap(page, watch, "11-settings-rotated")

            # --- stats, users, audit, Russian ---------------------------------------------------------
            await page.click("nav.nav >> text=Stats")
            await pw_expect(page.locator("#chart-outcomes svg rect.seg-done")).to_have_count(1)
            await pw_expect(page.locator("#chart-latency svg rect.seg-p50")).to_have_count(1)
            await snap(page, watch, "12-stats")
            await page.click("nav.nav >> text=Users")
            await pw_expect(page.locator("tr[data-user]")).to_have_count(2)
            await snap(page, watch, "13-users")
            await page.click("nav.nav >> text=Account")
            await pw_expect(page.locator("#password-form")).to_be_visible()
            await snap(page, watch, "13-account")
            await page.click("nav.nav >> text=Audit log")
            await pw_expect(page.locator("td code", has_text="slot.update")).to_have_count(1)
            await snap(page, watch, "14-audit")
            await page.click("a[hreflang=ru]")
            await pw_expect(page.locator("html")).to_have_attribute("lang", "ru")
            await pw_expect(page.locator("h1")).to_have_text("Журнал аудита")
            await page.goto("/admin")
            await snap(page, watch, "15-dashboard-ru")
            await page.click("a[hreflang=en]")
            await page.click("header button:has-text('Log out')")
            await pw_expect(page.locator(".banner.ok")).to_have_text("You have been signed out.")
            watch.check("logout")

            # --- the operator: no write controls, and the write routes refuse ------------------------
            await page.goto("/admin/login")
            await login(page, "ui-operator")
            await pw_expect(page.locator("article.slot")).to_have_count(15)
            nav = page.locator("nav.nav")
            for hidden in ("Settings", "Users", "Audit log"):
                await pw_expect(nav.get_by_text(hidden)).to_have_count(0)
            await snap(page, watch, "16-operator-dashboard")
            await page.goto("/admin/slots/slot-003")
            await pw_expect(page.locator("#slot-form input[name=display_name]")).to_be_disabled()
            await pw_expect(page.locator("#slot-form button[type=submit]")).to_have_count(0)
            await snap(page, watch, "17-operator-slot")
            await page.goto("/admin/media")
            await pw_expect(page.locator("#media-upload")).to_have_count(0)
            await pw_expect(page.locator("button.danger")).to_have_count(0)
            await snap(page, watch, "18-operator-media")
            csrf = await page.evaluate("document.body.dataset.csrf")
            form_refused = await page.request.post(
                "/admin/slots/slot-003",
                form={"csrf": csrf, "provider": "local", "operation": "passthrough", "version": "2"},
            )
            assert form_refused.status == 403
            api_refused = await page.request.put(
                "/api/slots/slot-003",
                headers={"X-CSRF-Token": csrf},
                data={
                    "display_name": "x",
                    "provider": "local",
                    "operation": "passthrough",
                    "params": {},
                    "is_active": True,
                    "version": 2,
                },
            )
            assert api_refused.status == 403
            assert (await api_refused.json())["code"] == "forbidden"
            settings_refused = await page.request.post(
                "/admin/settings/ingest-password",
                form={"csrf": csrf, "new_password": "x" * 12, "repeat_password": "x" * 12, "confirm": "on"},
            )
            assert settings_refused.status == 403
            await page.goto("/admin/slots/slot-003/gallery")
            await pw_expect(page.locator("#gallery figure.tile")).to_have_count(4)
            watch.check("operator")
            await context.close()
        finally:
            await browser.close()

    # The admin's Wedding frame survived the operator's attempts.
    async with httpx.AsyncClient(base_url=base) as http:
        token = (
            await http.post("/api/auth/login", json={"username": "ui-admin", "password": DEFAULT_PASSWORD})
        ).json()["access_token"]
        slot = (await http.get("/api/slots/slot-003", headers={"Authorization": f"Bearer {token}"})).json()
    assert (slot["display_name"], slot["operation"], slot["version"]) == ("Wedding frame", "frame", 2)
    elapsed = time.monotonic() - started
    (SCREENSHOTS / "timing.txt").write_text(f"browser scenario: {elapsed:.1f} s\n", encoding="utf-8")
