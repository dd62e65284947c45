"""pytest fixtures for the fake upstreams: one server per provider per session, reset before each test.

Import the ones you need into a conftest (`from tests.fakes.fixtures import gemini_fake`, ...); a fixture
returns the running fake, scripts and records cleared.
"""

from collections.abc import Iterator

import pytest

from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake
from tests.fakes.openrouter import OpenRouterFake
from tests.fakes.turbotext import TurbotextFake


@pytest.fixture(scope="session")
def gemini_server() -> Iterator[GeminiFake]:
    with GeminiFake().running() as fake:
        yield fake


@pytest.fixture(scope="session")
def openai_server() -> Iterator[OpenAIFake]:
    with OpenAIFake().running() as fake:
        yield fake


@pytest.fixture(scope="session")
def openrouter_server() -> Iterator[OpenRouterFake]:
    with OpenRouterFake().running() as fake:
        yield fake


@pytest.fixture(scope="session")
def turbotext_server() -> Iterator[TurbotextFake]:
    with TurbotextFake().running() as fake:
        yield fake


@pytest.fixture
def gemini_fake(gemini_server: GeminiFake) -> GeminiFake:
    gemini_server.reset()
    return gemini_server


@pytest.fixture
def openai_fake(openai_server: OpenAIFake) -> OpenAIFake:
    openai_server.reset()
    return openai_server


@pytest.fixture
def openrouter_fake(openrouter_server: OpenRouterFake) -> OpenRouterFake:
    openrouter_server.reset()
    return openrouter_server


@pytest.fixture
def turbotext_fake(turbotext_server: TurbotextFake) -> TurbotextFake:
    turbotext_server.reset()
    return turbotext_server
