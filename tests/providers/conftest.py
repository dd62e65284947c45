"""Provider test fixtures: the fake upstreams, one shared client, and each driver pointed at its fake."""

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import httpx
import pytest
from pydantic import BaseModel

from photochanger.providers.base import Deadline, Photo, ProviderRequest, TemplateImage
from photochanger.providers.gemini.driver import GeminiProvider
from photochanger.providers.gpt_image.driver import GptImageProvider
from photochanger.providers.openrouter.driver import OpenRouterProvider
from photochanger.providers.remote import RetryPolicy
from photochanger.providers.turbotext.driver import TurbotextProvider
from tests.fakes.gemini import GeminiFake
from tests.fakes.images import solid
from tests.fakes.openai import OpenAIFake
from tests.fakes.openrouter import OpenRouterFake
from tests.fakes.turbotext import TurbotextFake

# Short waits so retries fit the tests' 1-2 s deadlines.
FAST_RETRY = RetryPolicy(max_attempts=3, backoff=0.05, max_backoff=0.2, min_attempt=0.2)
PHOTO = solid((200, 120, 90), (80, 60), "JPEG")
TEMPLATE = TemplateImage("tpl-1", solid((0, 0, 255), (40, 40)), "image/png")


def make_request(
    options: BaseModel,
    *,
    seconds: float = 2.0,
    templates: Mapping[str, TemplateImage] | None = None,
    output_type: str = "image/jpeg",
    public_media_url: Callable[[bytes, str], Awaitable[str]] | None = None,
    guest_url: str | None = None,
    image: bytes = PHOTO,
) -> ProviderRequest:
    return ProviderRequest(
        job_id="job-1",
        photo=Photo(image),
        content_type="image/jpeg",
        options=options,
        deadline=Deadline.after(seconds),
        templates=templates or {},
        output_type=output_type,
        public_media_url=public_media_url,
        guest_url=guest_url,
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False) as client:
        yield client


@pytest.fixture
def gemini(http: httpx.AsyncClient, gemini_fake: GeminiFake) -> GeminiProvider:
    return GeminiProvider(http, api_key=gemini_fake.api_key, base_url=gemini_fake.url, retry=FAST_RETRY)


@pytest.fixture
def gpt_image(http: httpx.AsyncClient, openai_fake: OpenAIFake) -> GptImageProvider:
    return GptImageProvider(http, api_key=openai_fake.api_key, base_url=openai_fake.url, retry=FAST_RETRY)


@pytest.fixture
def openrouter(http: httpx.AsyncClient, openrouter_fake: OpenRouterFake) -> OpenRouterProvider:
    return OpenRouterProvider(
        http, api_key=openrouter_fake.api_key, base_url=openrouter_fake.url, retry=FAST_RETRY
    )


@pytest.fixture
def turbotext(http: httpx.AsyncClient, turbotext_fake: TurbotextFake) -> TurbotextProvider:
    return TurbotextProvider(
        http,
        api_key=turbotext_fake.api_key,
        base_url=turbotext_fake.url,
        retry=FAST_RETRY,
        poll_interval=0.05,
    )
