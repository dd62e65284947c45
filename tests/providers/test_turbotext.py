"""The Turbotext driver against its fake: inputs by URL, create_queue then polling, result shapes."""

import time
from typing import Any

import pytest

from photochanger.providers.base import (
    ProviderFailed,
    ProviderMisconfigured,
    ProviderRefused,
    ProviderTimeout,
    ProviderUnavailable,
)
from photochanger.providers.turbotext.driver import TurbotextProvider
from photochanger.providers.turbotext.schemas import (
    TurbotextIdentityTransferOptions,
    TurbotextImageEditOptions,
    TurbotextStyleTransferOptions,
)
from tests.fakes.images import decode
from tests.fakes.server import Reply
from tests.fakes.turbotext import TurbotextFake
from tests.providers.conftest import TEMPLATE, make_request

EDIT = TurbotextImageEditOptions(prompt="супергерой", strength=55, seed=42)


async def test_image_edit_publishes_the_photo_queues_and_polls_until_done(
    turbotext: TurbotextProvider, turbotext_fake: TurbotextFake
) -> None:
    turbotext_fake.reconnects = 3
    result = await turbotext.run("image_edit", make_request(EDIT, public_media_url=turbotext_fake.publish))
    create = turbotext_fake.last("create")
    assert create.path == "/api_ai/generate_image2image"
    assert create.headers["authorization"] == f"Bearer {turbotext_fake.api_key}"
    assert create.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert (create.field("content"), create.field("strength"), create.field("seed")) == (
        "супергерой",
        "55",
        "42",
    )
    assert [(name, mime) for name, mime, _ in turbotext_fake.inputs] == [("url", "image/jpeg")]
    assert decode(turbotext_fake.inputs[0][2]).size == (80, 60)
    assert turbotext_fake.count("poll") == 4
    assert turbotext_fake.last("poll").field("queueid") == "1000"
    assert turbotext_fake.count("download") == 1
    assert result.meta["polls"] == 4
    assert decode(result.data).format == "JPEG"


@pytest.mark.parametrize(
    ("operation", "options", "method", "expected"),
    [
        (
            "style_transfer",
            TurbotextStyleTransferOptions(style_media_id="tpl-1", prompt="Дисней"),
            "mix_images",
            {"url_image_target": "photo", "url": "template", "content": "Дисней"},
        ),
        (
            "identity_transfer",
            TurbotextIdentityTransferOptions(scene_media_id="tpl-1"),
            "deepfake_photo",
            {"url": "template", "url_image_target": "photo", "face_restore": "True"},
        ),
    ],
)
async def test_template_operations_send_both_images_by_url(
    turbotext: TurbotextProvider,
    turbotext_fake: TurbotextFake,
    operation: str,
    options: Any,
    method: str,
    expected: dict[str, str],
) -> None:
    request = make_request(options, templates={"tpl-1": TEMPLATE}, public_media_url=turbotext_fake.publish)
    await turbotext.run(operation, request)
    create = turbotext_fake.last("create")
    assert create.path == f"/api_ai/{method}"
    sizes = {name: decode(data).size for name, _, data in turbotext_fake.inputs}
    kinds = {name: "photo" if size == (80, 60) else "template" for name, size in sizes.items()}
    for name, value in expected.items():
        assert (kinds.get(name) or create.field(name)) == value


@pytest.mark.parametrize("shape", ["uploaded_image", "data_uploaded_image", "data_image_relative"])
async def test_the_result_is_found_at_the_top_level_or_under_data(
    turbotext: TurbotextProvider, turbotext_fake: TurbotextFake, shape: Any
) -> None:
    turbotext_fake.result_shape = shape
    result = await turbotext.run("image_edit", make_request(EDIT, public_media_url=turbotext_fake.publish))
    assert decode(result.data).size == (320, 240)
    assert turbotext_fake.count("download") == 1


async def test_a_poll_that_never_finishes_times_out_at_the_deadline(
    turbotext: TurbotextProvider, turbotext_fake: TurbotextFake
) -> None:
    turbotext_fake.never_finish = True
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        await turbotext.run(
            "image_edit", make_request(EDIT, seconds=0.8, public_media_url=turbotext_fake.publish)
        )
    assert 0.7 < time.monotonic() - started < 1.3
    assert turbotext_fake.count("poll") >= 5


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (TurbotextFake.failure("LIMIT"), ProviderUnavailable),
        (TurbotextFake.failure("url_error"), ProviderMisconfigured),
        (TurbotextFake.failure("params_error"), ProviderFailed),
        (TurbotextFake.forbidden(), ProviderRefused),
        (Reply.malformed(), ProviderFailed),
    ],
    ids=["limit", "url_error", "params_error", "forbidden_content", "malformed"],
)
async def test_poll_failures_map_onto_the_taxonomy(
    turbotext: TurbotextProvider, turbotext_fake: TurbotextFake, reply: Reply, error: type[Exception]
) -> None:
    turbotext_fake.script(reply, route="poll")
    with pytest.raises(error):
        await turbotext.run("image_edit", make_request(EDIT, public_media_url=turbotext_fake.publish))
    assert turbotext_fake.count("create") == 1


async def test_a_transient_create_failure_is_retried(
    turbotext: TurbotextProvider, turbotext_fake: TurbotextFake
) -> None:
    turbotext_fake.script(Reply(status=503, body=b"busy", content_type="text/html"), route="create")
    await turbotext.run("image_edit", make_request(EDIT, public_media_url=turbotext_fake.publish))
    assert turbotext_fake.count("create") == 2


async def test_without_public_media_urls_it_cannot_run(
    turbotext: TurbotextProvider, turbotext_fake: TurbotextFake
) -> None:
    with pytest.raises(ProviderFailed, match="by URL"):
        await turbotext.run("image_edit", make_request(EDIT))
    assert turbotext_fake.count() == 0


async def test_a_wrong_key_is_a_configuration_error(
    turbotext: TurbotextProvider, turbotext_fake: TurbotextFake
) -> None:
    other = TurbotextProvider(
        turbotext._http, api_key="wrong", base_url=turbotext_fake.url, poll_interval=0.05
    )
    with pytest.raises(ProviderFailed) as caught:
        await other.run("image_edit", make_request(EDIT, public_media_url=turbotext_fake.publish))
    assert caught.value.upstream_status == 401
