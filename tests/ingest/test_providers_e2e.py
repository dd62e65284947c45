"""End to end: a slot per provider, a real booth upload through ingest, the fake upstream answering each way,
the booth getting the documented status and the job the right failure reason."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.models import Slot
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake
from tests.fakes.openrouter import OpenRouterFake
from tests.fakes.server import FakeUpstream, Reply
from tests.fakes.turbotext import TurbotextFake
from tests.ingest.conftest import booth_fields, configure_slot, jobs, upload
from tests.ingest.test_real_server import _jobs, _set_password
from tests.support import images
from tests.support.server import config_env, free_port, running_server

pytestmark = pytest.mark.usefixtures("ingest_password")


@dataclass(frozen=True)
class Case:
    provider: str
    fixture: str
    refusal: Callable[[], Reply]
    throttled: Callable[[], Reply]


CASES = {
    "gemini": Case(
        "gemini",
        "gemini_fake",
        lambda: GeminiFake.blocked("PROHIBITED_CONTENT"),
        lambda: GeminiFake.error(429, "RESOURCE_EXHAUSTED", retry_after="120"),
    ),
    "gpt_image": Case(
        "gpt_image",
        "openai_fake",
        OpenAIFake.moderation_blocked,
        lambda: OpenAIFake.error(429, "rate_limit_exceeded", retry_after="120"),
    ),
    "openrouter": Case(
        "openrouter",
        "openrouter_fake",
        OpenRouterFake.content_filter,
        lambda: OpenRouterFake.error(429, "rate limited", retry_after="120"),
    ),
}


@pytest.fixture
def config_overrides(
    gemini_server: GeminiFake, openai_server: OpenAIFake, openrouter_server: OpenRouterFake
) -> dict[str, Any]:
    return {
        "gemini_api_key": GeminiFake.api_key,
        "gemini_base_url": gemini_server.url,
        "openai_api_key": OpenAIFake.api_key,
        "openai_base_url": openai_server.url,
        "openrouter_api_key": OpenRouterFake.api_key,
        "openrouter_base_url": openrouter_server.url,
    }


async def _slot_for(sessionmaker: async_sessionmaker[AsyncSession], provider: str) -> str:
    slot = "slot-010"
    await configure_slot(
        sessionmaker,
        slot,
        provider=provider,
        operation="edit",
        settings={"params": {"prompt": "watercolour"}},
    )
    return slot


@pytest.mark.parametrize("provider", sorted(CASES))
@pytest.mark.parametrize(
    ("outcome", "status", "code", "reason"),
    [
        ("success", 200, None, None),
        ("refused", 422, "provider_refused", "provider_refused"),
        ("throttled", 503, "unavailable", "provider_unavailable"),
        ("malformed", 502, "provider_error", "provider_error"),
        ("text", 502, "provider_error", "provider_error"),
    ],
)
async def test_booth_status_and_failure_reason_per_provider(
    request: pytest.FixtureRequest,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: str,
    outcome: str,
    status: int,
    code: str | None,
    reason: str | None,
) -> None:
    case = CASES[provider]
    fake: FakeUpstream = request.getfixturevalue(case.fixture)
    slot = await _slot_for(sessionmaker, provider)
    if outcome == "refused":
        fake.always(case.refusal())
    elif outcome == "throttled":
        fake.always(case.throttled())
    elif outcome == "malformed":
        fake.always(Reply.malformed())
    elif outcome == "text":
        fake.always(Reply(body=b"<html>upstream proxy error page</html>", content_type="text/html"))

    response = await upload(client, images.jpeg(90, 60), slot=slot)

    assert response.status_code == status, response.text
    [job] = await jobs(sessionmaker)
    assert job.provider == provider
    if code is None:
        assert response.headers["content-type"] == "image/jpeg"
        assert job.status == "done"
        sent = fake.last()
        assert sent.headers  # the driver really reached the fake over a socket
    else:
        assert response.json()["code"] == code
        assert (job.status, job.failure_reason) == ("failed", reason)
    if outcome == "throttled":
        assert response.headers["retry-after"] == "120"
        assert fake.count("main") == 1, "a Retry-After beyond the deadline is not retried"


@pytest.mark.parametrize("provider", sorted(CASES))
async def test_template_media_reach_the_provider(
    request: pytest.FixtureRequest,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
    provider: str,
) -> None:
    fake: FakeUpstream = request.getfixturevalue(CASES[provider].fixture)
    template = images.png(40, 40)
    created = await client.post(
        "/api/template-media", headers=admin_headers, files={"file": ("style.png", template, "image/png")}
    )
    assert created.status_code == 201, created.text
    template_id = created.json()["id"]
    await configure_slot(
        sessionmaker,
        "slot-011",
        provider=provider,
        operation="edit",
        settings={"params": {"prompt": "in this style", "template_media_ids": [template_id]}},
    )
    response = await upload(client, images.jpeg(), slot="slot-011")
    assert response.status_code == 200, response.text
    sent = fake.last()
    # Photo first, then the template: two images in whatever shape the vendor takes them.
    images_sent = len(sent.files) or str(sent.json).count("base64,") or str(sent.json).count("'data'")
    assert images_sent == 2, sent


@pytest.mark.slow
async def test_turbotext_fetches_the_photo_from_our_short_lived_link(
    config: AppConfig, turbotext_fake: TurbotextFake, tmp_path: Path
) -> None:
    port = free_port()
    config = AppConfig.model_validate(
        {
            **dict(config),
            "public_base_url": f"http://127.0.0.1:{port}",
            "turbotext_api_key": TurbotextFake.api_key,
            "turbotext_base_url": turbotext_fake.url,
        }
    )
    await _set_password(config)
    engine = create_engine(config.database_url)
    async with create_sessionmaker(engine)() as session, session.begin():
        slot = await session.get(Slot, "slot-012")
        assert slot is not None
        slot.provider, slot.operation = "turbotext", "image_edit"
        slot.settings = {"params": {"prompt": "make it winter"}}
    await engine.dispose()

    photo = images.jpeg(64, 48)
    with running_server(config_env(config), tmp_path / "server.log", port=port) as server:
        async with httpx.AsyncClient(timeout=60) as http:
            response = await http.post(
                f"{server.base_url}/api/ingest/slot-012",
                data=booth_fields(),
                files={"fileToUpload": ("a.jpg", photo, "image/jpeg")},
            )
            assert response.status_code == 200, response.text + server.log()
            [link] = turbotext_fake.fetched
            assert link.startswith(f"http://127.0.0.1:{port}/public/provider-media/")
            # Turbotext reads the type from the link's name: the extension matches the JPEG it serves.
            assert link.endswith(".jpg")
            # The link dies with the job: its file is gone once the job ended.
            assert (await http.get(link)).status_code in (404, 410)
    [(field, content_type, data)] = turbotext_fake.inputs
    assert field == "url"
    assert content_type == "image/jpeg"
    assert images.decode(data).size == (64, 48)
    [job] = await _jobs(config)
    assert job.status == "done"
    assert not list((config.media_root / "temp").iterdir())
