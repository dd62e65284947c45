"""First sign-in with the generated admin password: every admin page leads to the account page until a
new password is chosen; then the dashboard opens."""

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from photochanger.core.passwords import hash_password
from photochanger.models import User
from tests.admin.conftest import csrf_of, form_login

KNOWN = "generated-first-password-1"
CHOSEN = "my own admin password 2026"


async def test_the_generated_first_password_must_be_replaced_before_anything_else(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # The bootstrap admin was created at start-up with a generated password; give it a known one.
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(User).where(User.username == "admin").values(password_hash=await hash_password(KNOWN))
        )
    signed_in = await form_login(client, "admin", KNOWN)
    assert signed_in.status_code == 303
    for page in ("/admin", "/admin/settings", "/admin/booths", "/admin/slots/slot-001"):
        response = await client.get(page)
        assert (response.status_code, response.headers["location"]) == (303, "/admin/account"), page
    account = await client.get("/admin/account")
    assert account.status_code == 200
    assert "Choose your own password to continue." in account.text
    assert (await client.get("/admin/logout")).status_code == 200

    changed = await client.post(
        "/admin/account/password",
        data={
            "csrf": csrf_of(account.text),
            "current_password": KNOWN,
            "new_password": CHOSEN,
            "repeat_password": CHOSEN,
        },
    )
    assert changed.status_code == 303, changed.text
    assert (await client.get("/admin")).status_code == 200
    after = await client.get("/admin/account")
    assert "Choose your own password to continue." not in after.text
    async with app.state.sessionmaker() as session:
        admin = (await session.execute(User.__table__.select().where(User.username == "admin"))).one()
        assert admin.must_change_password is False


async def test_an_ordinary_account_is_not_asked(admin_ui: httpx.AsyncClient) -> None:
    assert (await admin_ui.get("/admin")).status_code == 200
