"""Issue 20's last gallery and slot flows in real headless Chromium, in English and in Russian: hiding one
photo from guests and showing it again, guest page opens and downloads in Stats for a slot outside any
event, duplicating a slot (a switched-on target asks first), and a trial of unsaved settings on the slot's
last booth shot."""

from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Dialog, async_playwright
from playwright.async_api import expect as pw_expect

from tests.admin import test_browser as browser_suite
from tests.admin.test_browser import (
    CHROMIUM_ARGS,
    DESKTOP,
    OLD_INGEST_PASSWORD,
    SCREENSHOTS,
    Watch,
    login,
    snap,
)
from tests.ingest.conftest import booth_fields
from tests.support import images
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow
server_port = browser_suite.server_port
config_overrides = browser_suite.config_overrides
server = browser_suite.server
chromium = browser_suite.chromium
SHOT = (640, 480)

TEXT = {
    "en": {
        "locale": "en-US",
        "hidden_badge": "hidden",
        "taken_down": "This photo has been taken down",
        "copy_name": "Slot 1 (copy)",
        "saved": "Saved.",
        "duplicated": "ui-admin duplicated Slot 1 into Slot 1 (copy)",
        "hid": "ui-admin hid a photo of Slot 1 from guests",
    },
    "ru": {
        "locale": "ru-RU",
        "hidden_badge": "скрыто",
        "taken_down": "Это фото снято",
        "copy_name": "Slot 1 (копия)",
        "saved": "Сохранено.",
        "duplicated": "ui-admin продублировал(а) Slot 1 в Slot 1 (копия)",  # noqa: RUF001
        "hid": "ui-admin скрыл(а) фото из Slot 1 от гостей",  # noqa: RUF001
    },
}


def _shoot(server: ServerProcess, slot_id: str, shot: int) -> str:
    response = httpx.post(
        f"{server.base_url}/api/ingest/{slot_id}",
        data=booth_fields(OLD_INGEST_PASSWORD, id=f"GS-{shot:05d}", hash=f"{shot:040x}"),
        files={"fileToUpload": (f"IMG_{shot}.JPG", images.jpeg(*SHOT, color=(30, 90, 200)), "image/jpeg")},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.headers["x-job-id"]


def _download(base: str, job_id: str) -> httpx.Response:
    return httpx.get(f"{base}/public/results/{job_id}", timeout=30)


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_gallery_and_slot_flows_in_chromium(
    server: ServerProcess, chromium: str, tmp_path: Path, lang: str
) -> None:
    text = TEXT[lang]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = server.base_url
    job_id = _shoot(server, "slot-001", 1)

    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            guest_context = await browser.new_context(base_url=base, viewport=DESKTOP, locale=text["locale"])
            guest = await guest_context.new_page()
            guest_watch = Watch(guest)
            await guest.goto(f"/r/{job_id}")
            await pw_expect(guest.locator("html")).to_have_attribute("lang", lang)
            await pw_expect(guest.locator("img").first).to_be_visible()
            guest_watch.check("guest page")
            assert _download(base, job_id).status_code == 200

            context = await browser.new_context(base_url=base, viewport=DESKTOP, locale=text["locale"])
            page = await context.new_page()
            dialogs: list[str] = []

            async def on_dialog(dialog: Dialog) -> None:
                dialogs.append(dialog.message)
                await dialog.accept()

            page.on("dialog", on_dialog)
            watch = Watch(page)
            await page.goto("/admin/login")
            await login(page, "ui-admin")
            await pw_expect(page).to_have_url(f"{base}/admin")

            # --- hide one photo: guests see it was taken down, the admin still sees it -----------------
            await page.goto("/admin/slots/slot-001/gallery")
            tile = page.locator(f'figure[data-job="{job_id}"]')
            await tile.locator("form[data-role=hide] button").click()
            await pw_expect(page.locator("#hidden-done")).to_be_visible()
            assert len(dialogs) == 1  # asked before hiding
            tile = page.locator(f'figure[data-job="{job_id}"]')
            await pw_expect(tile).to_have_attribute("data-hidden", "yes")
            await pw_expect(tile.locator("[data-role=hidden-badge]")).to_have_text(text["hidden_badge"])
            # The admin's own preview route still serves it (lazy-loaded: wait for the image itself).
            img = await tile.locator("img").element_handle()
            await page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img)
            assert await tile.locator("img").evaluate("img => img.naturalWidth") == 320
            assert "/admin/results/" in (await tile.locator("img").get_attribute("src") or "")
            await snap(page, watch, f"gs-{lang}-01-hidden")
            await guest.goto(f"/r/{job_id}")
            await pw_expect(guest.locator("#hidden-title")).to_have_text(text["taken_down"])
            guest_watch.check("guest page of a hidden photo", allow=(410,))
            refused = _download(base, job_id)
            assert (refused.status_code, refused.json()["code"]) == (410, "result_hidden")

            await tile.locator("form[data-role=show] button").click()
            await pw_expect(page.locator("#shown-done")).to_be_visible()
            await pw_expect(page.locator(f'figure[data-job="{job_id}"][data-hidden]')).to_have_count(0)
            await pw_expect(page.locator(f'figure[data-job="{job_id}"] form[data-role=hide]')).to_have_count(
                1
            )
            await guest.goto(f"/r/{job_id}")
            await pw_expect(guest.locator("#hidden-title")).to_have_count(0)
            guest_watch.check("guest page shown again")
            watch.check("hide and show")

            # --- stats: guest opens and downloads for a slot outside any event -------------------------
            await page.goto("/admin/stats?window=1h")
            row = page.locator('#guest-table tr[data-slot="slot-001"]')
            await pw_expect(row.locator("td").first).to_have_text("Slot 1")
            await pw_expect(row.locator('[data-metric="page_open"]')).to_have_text("2")
            await pw_expect(row.locator('[data-metric="download"]')).to_have_text("1")
            await snap(page, watch, f"gs-{lang}-02-stats")

            # --- duplicate a slot: a switched-on target asks first --------------------------------------
            await page.goto("/admin/slots/slot-001")
            await page.click("#duplicate-link")
            await pw_expect(page.locator("#duplicate-form")).to_be_visible()
            await snap(page, watch, f"gs-{lang}-03-duplicate")
            await page.check('#duplicate-form [data-target="slot-014"] input[type=radio]')
            await page.click("#duplicate-run")
            await pw_expect(page.locator("#duplicate-warning")).to_be_visible()
            watch.check("duplicate confirmation", allow=(409,))
            await page.click("#duplicate-replace")
            await pw_expect(page).to_have_url(f"{base}/admin/slots/slot-014?saved=1")
            await pw_expect(page.locator(".banner.ok")).to_have_text(text["saved"])
            await pw_expect(page.locator("input[name=display_name]")).to_have_value(text["copy_name"])
            await page.goto("/admin/audit")
            await pw_expect(page.locator("body")).to_contain_text(text["duplicated"])
            await pw_expect(page.locator("body")).to_contain_text(text["hid"])
            watch.check("duplicate")

            # --- a trial of unsaved settings on the last booth shot -------------------------------------
            await page.goto("/admin/slots/slot-001")
            preview = page.locator("#last-shot-preview")
            await pw_expect(preview).to_be_visible()
            await page.wait_for_load_state("load")
            assert await preview.evaluate("img => img.naturalWidth") == 320
            await page.select_option("select[name=output_format]", "png")
            await page.fill("input[name=display_name]", "Tried, not saved")
            await page.click("#trial-last-shot")
            await pw_expect(page.locator("#trial-outcome")).to_have_attribute("data-ok", "true")
            await page.wait_for_load_state("load")
            after = await page.locator("#trial-after").evaluate(
                "img => [img.naturalWidth, img.naturalHeight]"
            )
            assert tuple(after) == SHOT
            assert await page.locator("#trial-before").evaluate("img => img.naturalWidth") == SHOT[0]
            await pw_expect(page.locator("input[name=display_name]")).to_have_value("Tried, not saved")
            await snap(page, watch, f"gs-{lang}-04-trial-last-shot")
            await context.close()
            await guest_context.close()
        finally:
            await browser.close()
