"""Guest pages declare the favicon (no 404 probe) and use no emoji as an icon."""

import re

import httpx

EMOJI = re.compile("[\U0001f300-\U0001faff]")


async def test_guest_pages_declare_the_icon_and_use_no_emoji(client: httpx.AsyncClient) -> None:
    missing = await client.get("/r/AAAAAAAAAAAAAAAAAAAAAA")
    assert missing.status_code == 404
    assert '<link rel="icon" href="/favicon.svg" type="image/svg+xml">' in missing.text
    assert not EMOJI.search(missing.text)
    icon = await client.get("/admin/static/favicon.svg")
    assert (icon.status_code, icon.headers["content-type"]) == (200, "image/svg+xml")
