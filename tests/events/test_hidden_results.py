"""A photo hidden in the slot gallery is hidden from the event's guests too: out of the open event gallery
and its files, while the private event gallery (the operator's) still lists it."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.slots import hiding
from tests.events.conftest import create_event, shoot
from tests.support.actors import first_admin


async def test_a_hidden_result_leaves_the_public_event_gallery(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    ingest_password: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event = await create_event(client, admin_headers, slots=["slot-001"])
    ids = [(await shoot(client, "slot-001", n)).headers["x-job-id"] for n in range(2)]
    opened = (await client.post(f"/api/events/{event['id']}/gallery/open", headers=admin_headers)).json()
    link = opened["gallery_url"].removeprefix("http://booth.test")
    async with sessionmaker() as session, session.begin():
        assert (
            await hiding.set_hidden(session, ids[0], hidden=True, actor=await first_admin(session))
            == "slot-001"
        )
    page = await client.get(link)
    assert page.status_code == 200
    assert ids[0] not in page.text
    assert ids[1] in page.text
    assert (await client.get(f"{link}/photos/{ids[0]}")).status_code == 404
    assert (await client.get(f"{link}/photos/{ids[1]}")).status_code == 200
    guest = await client.get(f"/r/{ids[0]}")
    assert guest.status_code == 410
    assert 'id="hidden-title"' in guest.text
    private = (await client.get(f"/api/events/{event['id']}/photos", headers=admin_headers)).json()
    assert {p["job_id"] for p in private["items"]} == set(ids)
