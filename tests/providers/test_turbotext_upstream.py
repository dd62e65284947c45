"""Turbotext behaviours from its API page, reproduced by the fake: result paths and URLs, input links
named after their content, the documented error codes, unreachable public base URLs and the check."""

from typing import Any

import pytest

from photochanger.providers.base import Deadline, ProviderFailed, ProviderMisconfigured, SlotCheck
from photochanger.providers.turbotext.driver import TurbotextProvider, absolute_result_url
from photochanger.providers.turbotext.schemas import TurbotextImageEditOptions, TurbotextStyleTransferOptions
from tests.fakes.images import decode
from tests.fakes.turbotext import TurbotextFake
from tests.providers.conftest import TEMPLATE, make_request

EDIT = TurbotextImageEditOptions(prompt="зима")


@pytest.mark.parametrize(
    "shape", ["data_image_relative", "data_image_root_relative", "data_image_absolute", "uploaded_image"]
)
async def test_result_named_by_relative_path_or_absolute_url_is_downloaded(
    turbotext: TurbotextProvider, turbotext_fake: TurbotextFake, shape: Any
) -> None:
    turbotext_fake.result_shape = shape
    result = await turbotext.run("image_edit", make_request(EDIT, public_media_url=turbotext_fake.publish))
    assert decode(result.data).size == (320, 240)
    assert turbotext_fake.count("download") == 1


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("image/result/1.png", "https://www.turbotext.ru/image/result/1.png"),
        ("/image/result/1.png", "https://www.turbotext.ru/image/result/1.png"),
        ("https://cdn.turbotext.ru/1.png", "https://cdn.turbotext.ru/1.png"),
        ("//cdn.turbotext.ru/1.png", "https://cdn.turbotext.ru/1.png"),
    ],
)
def test_result_paths_resolve_against_the_site_root(candidate: str, expected: str) -> None:
    # A base URL with a path (a proxy prefix, say) does not move paths relative to the site.
    assert absolute_result_url(candidate, "https://www.turbotext.ru/proxy") == expected


def test_a_result_that_is_not_http_is_refused() -> None:
    with pytest.raises(ProviderFailed):
        absolute_result_url("ftp://example.com/1.png", "https://www.turbotext.ru")


async def test_input_links_carry_the_extension_of_their_content(
    turbotext: TurbotextProvider, turbotext_fake: TurbotextFake
) -> None:
    options = TurbotextStyleTransferOptions(style_media_id="tpl-1")
    request = make_request(options, templates={"tpl-1": TEMPLATE}, public_media_url=turbotext_fake.publish)
    await turbotext.run("style_transfer", request)
    create = turbotext_fake.last("create")
    assert str(create.field("url_image_target")).endswith(".jpg")
    assert str(create.field("url")).endswith(".jpg")


async def test_the_fake_refuses_a_link_whose_extension_does_not_match_its_content(
    turbotext: TurbotextProvider, turbotext_fake: TurbotextFake
) -> None:
    async def mislabelled(data: bytes, content_type: str) -> str:
        link = await turbotext_fake.publish(data, content_type)
        return link.rsplit(".", 1)[0] + ".png"

    with pytest.raises(ProviderFailed, match="url_error"):
        await turbotext.run("image_edit", make_request(EDIT, public_media_url=mislabelled))


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://192.168.1.20",
        "http://10.0.0.5",
        "http://[::1]",
    ],
)
def test_a_loopback_or_private_public_base_url_is_a_slot_problem(
    turbotext: TurbotextProvider, base_url: str
) -> None:
    problems = turbotext.check_slot("image_edit", SlotCheck(EDIT, "image/jpeg", {}, base_url))
    assert [(p.field, p.kind) for p in problems] == [("provider", "public_base_url_unreachable")]
    assert "PHOTOCHANGER_PUBLIC_BASE_URL" in problems[0].message


def test_a_public_base_url_passes_the_slot_check(turbotext: TurbotextProvider) -> None:
    check = SlotCheck(EDIT, "image/jpeg", {}, "https://booth.example.com")
    assert turbotext.check_slot("image_edit", check) == []


async def test_check_connection_queues_the_available_api_method(
    turbotext: TurbotextProvider, turbotext_fake: TurbotextFake
) -> None:
    check = await turbotext.check_connection(Deadline.after(2))
    assert check.ok
    assert turbotext_fake.last("create").path == "/api_ai/available_api"
    wrong = TurbotextProvider(turbotext._http, api_key="nope", base_url=turbotext_fake.url)
    refused = await wrong.check_connection(Deadline.after(2))
    assert (refused.ok, refused.upstream_status) == (False, 401)
    assert "Unauthorized" in refused.detail


async def test_a_refused_key_is_misconfiguration_with_turbotexts_text(
    turbotext: TurbotextProvider, turbotext_fake: TurbotextFake
) -> None:
    wrong = TurbotextProvider(
        turbotext._http, api_key="nope", base_url=turbotext_fake.url, poll_interval=0.05
    )
    with pytest.raises(ProviderMisconfigured, match="Unauthorized") as caught:
        await wrong.run("image_edit", make_request(EDIT, public_media_url=turbotext_fake.publish))
    assert caught.value.reason == "provider_misconfigured"
