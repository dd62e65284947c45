"""Issue 18's scenario in real headless Chromium against the real server: an admin adds a Gemini key in
Settings → Providers, checks it (ok, and Google's own words for a bad key), points a slot at Gemini, and a
booth shot succeeds, all without a restart; the key is never in a response, a page or the server's log."""

import contextlib
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Response, async_playwright
from playwright.async_api import expect as pw_expect

from tests.admin.test_browser import (
    CHROMIUM_ARGS,
    DESKTOP,
    OLD_INGEST_PASSWORD,
    SCREENSHOTS,
    Watch,
    booth_upload,
    chromium,
    login,
    server,
    server_port,
)
from tests.fakes.fixtures import gemini_fake, gemini_server
from tests.fakes.gemini import GeminiFake
from tests.support.server import ServerProcess

__all__ = ["chromium", "gemini_fake", "gemini_server", "server", "server_port"]

pytestmark = pytest.mark.slow

KEY = GeminiFake.api_key
BAD_KEY = "AIzaRevokedKey0000BAD1"


@pytest.fixture
def config_overrides(server_port: int, gemini_server: GeminiFake) -> dict[str, Any]:
    return {
        "public_base_url": f"http://127.0.0.1:{server_port}",
        "log_format": "json",
        "log_level": "DEBUG",
        "gemini_base_url": gemini_server.url,
        "secret_key": "browser-test-secret-" + "s" * 30,
    }


async def test_admin_adds_a_gemini_key_and_a_booth_shot_uses_it_without_a_restart(
    server: ServerProcess, chromium: str, gemini_fake: GeminiFake, tmp_path: Path
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    bodies: list[str] = []

    async def keep(response: Response) -> None:
        # Redirects and aborted streams have no body to read.
        with contextlib.suppress(Exception):
            bodies.append(await response.text())

    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(base_url=server.base_url, viewport=DESKTOP, locale="en-US")
            page = await context.new_page()
            page.on("dialog", lambda dialog: dialog.accept())
            page.on("response", keep)
            watch = Watch(page)
            await page.goto("/admin")
            await login(page, "ui-admin")
            await pw_expect(page).to_have_url(f"{server.base_url}/admin")

            # --- Settings → Providers: add the key and check it --------------------------------------
            await page.click("nav.nav >> text=Settings")
            await page.click("#providers-link")
            await pw_expect(page).to_have_url(f"{server.base_url}/admin/settings/providers")
            gemini = page.locator("#provider-gemini")
            await gemini.locator("input[name=api_key]").fill(KEY)
            await gemini.locator("input[name=label]").fill("Event account")
            await gemini.locator("form.add-key button[type=submit]").click()
            await pw_expect(page.locator(".banner.ok")).to_have_text("Key added.")
            key_item = gemini.locator("li.key")
            await pw_expect(key_item).to_have_count(1)
            await pw_expect(key_item.locator("code")).to_have_text(f"…{KEY[-4:]}")
            await pw_expect(key_item).to_contain_text("Set by ui-admin on")
            await key_item.locator("button[data-action=check]").click()
            await pw_expect(page.locator(".banner.ok")).to_have_text("Connection ok.")
            watch.check("key added and checked")

            # A wrong key: the check shows Google's own text; then it is removed again.
            gemini = page.locator("#provider-gemini")
            await gemini.locator("form.add-key input[name=api_key]").fill(BAD_KEY)
            await gemini.locator("form.add-key button[type=submit]").click()
            bad_item = page.locator("#provider-gemini li.key").nth(1)
            await bad_item.locator("button[data-action=check]").click()
            await pw_expect(page.locator(".banner.error")).to_contain_text(
                "API key not valid. Please pass a valid API key."
            )
            await page.screenshot(path=SCREENSHOTS / "18-providers-bad-key.png", full_page=True)
            bad_item = page.locator("#provider-gemini li.key").nth(1)
            await bad_item.locator("button[data-action=remove]").click()
            await pw_expect(page.locator(".banner.ok")).to_have_text("Key removed.")
            await pw_expect(page.locator("#provider-gemini li.key")).to_have_count(1)
            await page.screenshot(path=SCREENSHOTS / "18-providers.png", full_page=True)
            watch.check("bad key checked and removed")

            # --- a slot on Gemini, then a booth shot -------------------------------------------------
            await page.goto("/admin/slots/slot-002")
            await page.select_option("select[name=provider]", "gemini")
            await pw_expect(page).to_have_url(re.compile(r"provider=gemini"))
            await page.fill("[name='param.prompt']", "Turn the photo into a gold-leaf painting")
            await page.click("#slot-form button[type=submit]")
            await pw_expect(page.locator(".banner.ok")).to_have_text("Saved.")
            watch.check("slot saved")
        finally:
            await browser.close()

    shot = booth_upload(server, "slot-002", OLD_INGEST_PASSWORD, 18)
    assert shot.status_code == 200, shot.text
    assert shot.headers["content-type"] == "image/jpeg"
    sent = gemini_fake.last("main")
    assert sent.headers["x-goog-api-key"] == KEY
    assert [r.headers.get("x-goog-api-key") for r in gemini_fake.received if r.route == "model"] == [
        KEY,
        BAD_KEY,
    ]

    assert bodies, "no response was recorded"
    for secret in (KEY, BAD_KEY):
        assert not any(secret in body for body in bodies), "a key came back in a response"
        assert secret not in shot.text
        assert secret not in server.log(), "a key reached the server's log"
