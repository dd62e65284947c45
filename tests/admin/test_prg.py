"""Post/redirect/get everywhere: a GET of a form's POST-only address lands on its page (so the language
switch after a failed post never shows a raw 405), `GET /admin/logout` is a page, and the login page sends a
signed-in browser to the dashboard."""

import httpx
import pytest

from tests.admin.conftest import csrf_of


async def test_language_switch_after_a_failed_post_lands_on_the_form_page(
    admin_ui: httpx.AsyncClient,
) -> None:
    page = await admin_ui.get("/admin/settings")
    failed = await admin_ui.post(
        "/admin/settings/ingest-password",
        data={"csrf": csrf_of(page.text), "new_password": "a" * 14, "repeat_password": "b" * 14},
    )
    assert failed.status_code == 422
    switch = 'href="/admin/lang/ru?next=/admin/settings/ingest-password"'
    assert switch in failed.text
    hop = await admin_ui.get("/admin/lang/ru?next=/admin/settings/ingest-password")
    assert (hop.status_code, hop.headers["location"]) == (303, "/admin/settings/ingest-password")
    again = await admin_ui.get(hop.headers["location"])
    assert (again.status_code, again.headers["location"]) == (303, "/admin/settings")
    final = await admin_ui.get("/admin/settings")
    assert final.status_code == 200
    assert final.headers["content-type"].startswith("text/html")
    assert 'lang="ru"' in final.text


@pytest.mark.parametrize(
    ("address", "page"),
    [
        ("/admin/account/password", "/admin/account"),
        ("/admin/users/00000000-0000-0000-0000-000000000000/role", "/admin/users"),
        ("/admin/media/abc/delete", "/admin/media"),
        ("/admin/slots/slot-001/gallery/open", "/admin/slots/slot-001/gallery"),
    ],
)
async def test_a_get_of_a_post_only_address_redirects_to_its_page(
    admin_ui: httpx.AsyncClient, address: str, page: str
) -> None:
    response = await admin_ui.get(address)
    assert (response.status_code, response.headers["location"]) == (303, page)


async def test_the_json_api_still_answers_405(admin_ui: httpx.AsyncClient) -> None:
    response = await admin_ui.get("/api/auth/logout")
    assert response.status_code == 405


async def test_get_logout_shows_a_sign_out_button_that_posts(admin_ui: httpx.AsyncClient) -> None:
    page = await admin_ui.get("/admin/logout")
    assert page.status_code == 200
    assert 'id="logout-form"' in page.text
    done = await admin_ui.post("/admin/logout", data={"csrf": csrf_of(page.text)})
    assert (done.status_code, done.headers["location"]) == (303, "/admin/login?bye=1")
    signed_out = await admin_ui.get("/admin/logout")
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/admin/login")


async def test_the_login_page_sends_a_signed_in_browser_to_the_dashboard(admin_ui: httpx.AsyncClient) -> None:
    response = await admin_ui.get("/admin/login")
    assert (response.status_code, response.headers["location"]) == (303, "/admin")
    onward = await admin_ui.get("/admin/login?next=/admin/stats")
    assert onward.headers["location"] == "/admin/stats"


async def test_the_login_page_still_shows_for_a_stale_cookie(client: httpx.AsyncClient) -> None:
    client.cookies.set("pc_access", "forged.token.value")
    assert (await client.get("/admin/login")).status_code == 200
