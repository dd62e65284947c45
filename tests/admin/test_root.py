"""The site root sends a person to the admin."""

import httpx


async def test_root_redirects_to_the_admin(client: httpx.AsyncClient) -> None:
    response = await client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/admin"
