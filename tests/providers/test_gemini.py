"""The Gemini driver against its fake: request shape, result parsing, refusals, retries and deadlines."""

import base64
import time

import pytest
from pydantic import ValidationError

from photochanger.core.images import strip_jpeg_metadata
from photochanger.providers.base import ProviderFailed, ProviderRefused, ProviderTimeout, ProviderUnavailable
from photochanger.providers.gemini.driver import GeminiProvider
from photochanger.providers.gemini.schemas import GeminiEditOptions, ImageSize
from photochanger.providers.imaging import qr_placement
from tests.fakes.gemini import GeminiFake
from tests.fakes.images import decode, solid
from tests.fakes.server import Reply
from tests.providers.conftest import TEMPLATE, make_request
from tests.support import images

OPTIONS = GeminiEditOptions(prompt="make it pop", template_media_ids=["tpl-1"], aspect_ratio="3:4")


async def test_sends_photo_and_templates_inline_with_the_key_header(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    result = await gemini.run("edit", make_request(OPTIONS, templates={"tpl-1": TEMPLATE}))
    sent = gemini_fake.last()
    assert sent.path == "/v1beta/models/gemini-3.1-flash-image:generateContent"
    assert sent.headers["x-goog-api-key"] == gemini_fake.api_key
    assert "key=" not in sent.path
    parts = sent.json["contents"][0]["parts"]
    # An opaque PNG template is sent as JPEG: alpha is the only reason to keep PNG.
    assert [p["inline_data"]["mime_type"] for p in parts[:2]] == ["image/jpeg", "image/jpeg"]
    assert decode(base64.b64decode(parts[0]["inline_data"]["data"])).size == (80, 60)
    assert parts[2] == {"text": "make it pop"}
    assert sent.json["generationConfig"] == {
        "responseModalities": ["IMAGE"],
        "imageConfig": {"aspectRatio": "3:4"},
    }
    assert result.content_type == "image/jpeg"
    output = decode(result.data)
    assert output.format == "JPEG"
    # The final image (green), not the thought image before it.
    red, green, _blue = output.convert("RGB").getpixel((5, 5))  # type: ignore[misc]
    assert green > 150 > red


async def test_image_size_only_sent_to_models_that_take_it(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    legacy = GeminiEditOptions(prompt="p", model="gemini-2.5-flash-image", image_size="2K")
    await gemini.run("edit", make_request(legacy))
    assert "imageConfig" not in gemini_fake.last().json["generationConfig"]
    await gemini.run(
        "edit",
        make_request(GeminiEditOptions(prompt="p", model="gemini-3-pro-image-preview", image_size="2K")),
    )
    assert gemini_fake.last().json["generationConfig"]["imageConfig"] == {"imageSize": "2K"}


async def test_parses_snake_case_inline_data_and_encodes_the_slot_format(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    gemini_fake.script(GeminiFake.image_reply(solid((0, 0, 250), fmt="JPEG"), "image/jpeg", snake_case=True))
    result = await gemini.run(
        "edit", make_request(OPTIONS, templates={"tpl-1": TEMPLATE}, output_type="image/png")
    )
    output = decode(result.data)
    assert (output.format, result.content_type) == ("PNG", "image/png")
    assert output.convert("RGB").getpixel((3, 3))[2] > 200  # type: ignore[index]


@pytest.mark.parametrize(
    "reply",
    [
        GeminiFake.finish("IMAGE_SAFETY"),
        GeminiFake.finish("PROHIBITED_CONTENT"),
        GeminiFake.blocked("PROHIBITED_CONTENT"),
        GeminiFake.text_only(),
    ],
    ids=["image_safety", "prohibited_content", "block_reason", "text_only"],
)
async def test_refusals_are_not_retried_nor_relabelled(
    gemini: GeminiProvider, gemini_fake: GeminiFake, reply: Reply
) -> None:
    gemini_fake.script(reply)
    with pytest.raises(ProviderRefused):
        await gemini.run("edit", make_request(GeminiEditOptions(prompt="p")))
    assert gemini_fake.count() == 1


async def test_no_image_is_retried_within_the_deadline(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    gemini_fake.script(GeminiFake.finish("NO_IMAGE"))
    result = await gemini.run("edit", make_request(GeminiEditOptions(prompt="p")))
    assert result.data
    assert gemini_fake.count() == 2


async def test_429_with_a_long_retry_after_gives_up_at_once_and_reports_it(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    gemini_fake.script(GeminiFake.error(429, "RESOURCE_EXHAUSTED", "quota", retry_after="30"))
    with pytest.raises(ProviderUnavailable) as caught:
        await gemini.run("edit", make_request(GeminiEditOptions(prompt="p")))
    assert (caught.value.retry_after, caught.value.upstream_status) == (30.0, 429)
    assert gemini_fake.count() == 1


@pytest.mark.parametrize(
    "reply",
    [
        GeminiFake.error(429, "RESOURCE_EXHAUSTED"),
        GeminiFake.error(503, "UNAVAILABLE", retry_after="0.1"),
        GeminiFake.error(504, "DEADLINE_EXCEEDED", retry_delay="0.1s"),
        GeminiFake.error(500, "INTERNAL"),
    ],
    ids=["429", "503_retry_after", "504_retry_info", "500"],
)
async def test_transient_errors_are_retried(
    gemini: GeminiProvider, gemini_fake: GeminiFake, reply: Reply
) -> None:
    gemini_fake.script(reply)
    await gemini.run("edit", make_request(GeminiEditOptions(prompt="p")))
    assert gemini_fake.count() == 2


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_configuration_errors_fail_without_retry(
    gemini: GeminiProvider, gemini_fake: GeminiFake, status: int
) -> None:
    gemini_fake.script(GeminiFake.error(status, "INVALID_ARGUMENT"))
    with pytest.raises(ProviderFailed) as caught:
        await gemini.run("edit", make_request(GeminiEditOptions(prompt="p")))
    assert caught.value.upstream_status == status
    assert gemini_fake.count() == 1


async def test_a_wrong_key_is_a_configuration_error(gemini_fake: GeminiFake, gemini: GeminiProvider) -> None:
    other = GeminiProvider(gemini._http, api_key="wrong", base_url=gemini_fake.url)
    with pytest.raises(ProviderFailed, match="API key not valid"):
        await other.run("edit", make_request(GeminiEditOptions(prompt="p")))


async def test_malformed_json_is_a_provider_error(gemini: GeminiProvider, gemini_fake: GeminiFake) -> None:
    gemini_fake.script(Reply.malformed())
    with pytest.raises(ProviderFailed, match="not JSON"):
        await gemini.run("edit", make_request(GeminiEditOptions(prompt="p")))


async def test_an_answer_slower_than_the_deadline_times_out_on_time(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    gemini_fake.script(Reply.slow(5, GeminiFake.image_reply(solid((1, 2, 3)))))
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        await gemini.run("edit", make_request(GeminiEditOptions(prompt="p"), seconds=0.7))
    assert 0.6 < time.monotonic() - started < 1.5


async def test_a_missing_template_is_a_configuration_error(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    with pytest.raises(ProviderFailed, match="tpl-1"):
        await gemini.run("edit", make_request(OPTIONS))
    assert gemini_fake.count() == 0


async def test_results_are_stamped_with_the_guest_link_qr(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    guest_url = "https://photos.example.org/r/3q2Vf7kLm9Xa"
    request = make_request(
        GeminiEditOptions(prompt="p", stamp_qr=True), guest_url=guest_url, output_type="image/png"
    )
    result = await gemini.run("edit", request)
    assert result.meta["qr_stamped"] is True
    out = decode(result.data).convert("RGB")
    module_px, (left, top) = qr_placement(out.size, guest_url)
    # Quiet zone white, then the top-left finder pattern's corner module dark.
    assert out.getpixel((left + module_px // 2, top + module_px // 2)) == (255, 255, 255)
    assert out.getpixel((left + 2 * module_px + module_px // 2, top + 2 * module_px + module_px // 2)) == (
        0,
        0,
        0,
    )


async def test_logs_carry_status_and_sizes_never_the_key_or_payload(
    gemini: GeminiProvider, gemini_fake: GeminiFake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    gemini_fake.script(GeminiFake.error(503, "UNAVAILABLE"))
    await gemini.run("edit", make_request(GeminiEditOptions(prompt="p")))
    records = [r for r in caplog.records if r.name == "photochanger.providers"]
    assert [getattr(r, "status", None) for r in records if r.getMessage() == "provider answered"] == [
        503,
        200,
    ]
    payload = base64.b64encode(gemini_fake.image).decode()[:40]
    for record in caplog.records:
        text = f"{record.getMessage()} {record.__dict__}"
        assert gemini_fake.api_key not in text
        assert payload not in text


async def test_an_upright_jpeg_goes_unchanged_but_for_its_metadata(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    """No second JPEG generation for a photo that fits: the scan data is sent byte for byte."""
    photo = images.jpeg(120, 90, orientation=1)  # an EXIF block that says nothing needs turning
    await gemini.run("edit", make_request(GeminiEditOptions(prompt="p"), image=photo))
    sent = base64.b64decode(gemini_fake.last().json["contents"][0]["parts"][0]["inline_data"]["data"])
    assert sent == strip_jpeg_metadata(photo)
    assert len(sent) < len(photo)
    assert b"Exif" not in sent


@pytest.mark.parametrize(
    ("orientation", "side", "image_size", "sent_size"),
    [
        (6, 120, None, (90, 120)),
        # 1K at 4:3 is about 1182 x 887 px: the long side rounded up to 64 px.
        (1, 4000, None, (1216, 912)),
        (1, 4000, "2K", (2368, 1776)),
        # 4K would be 4736 px: Gemini's own 3072 px cap.
        (1, 4000, "4K", (3072, 2304)),
    ],
)
async def test_a_turned_or_oversized_jpeg_is_reencoded_upright_and_within_bounds(
    gemini: GeminiProvider,
    gemini_fake: GeminiFake,
    orientation: int,
    side: int,
    image_size: ImageSize | None,
    sent_size: tuple[int, int],
) -> None:
    photo = images.jpeg(side, side * 3 // 4, orientation=orientation)
    options = GeminiEditOptions(prompt="p", model="gemini-3-pro-image", image_size=image_size)
    await gemini.run("edit", make_request(options, image=photo, seconds=10))
    sent = base64.b64decode(gemini_fake.last().json["contents"][0]["parts"][0]["inline_data"]["data"])
    assert sent != strip_jpeg_metadata(photo)
    received = decode(sent)
    assert received.size == sent_size
    assert not received.getexif()


@pytest.mark.parametrize(
    ("options", "size", "side"),
    [
        # The output's long side at the photo's own aspect ratio (1K: 1264 x 848 at 3:2, 1024 square).
        (GeminiEditOptions(prompt="p"), (6000, 4000), 1280),
        (GeminiEditOptions(prompt="p"), (3000, 4000), 1216),
        (GeminiEditOptions(prompt="p"), (2000, 2000), 1024),
        # The slot's aspect ratio decides the output's shape, whatever the photo's.
        (GeminiEditOptions(prompt="p", aspect_ratio="21:9"), (6000, 4000), 1600),
        (GeminiEditOptions(prompt="p", image_size="512"), (6000, 4000), 640),
        (GeminiEditOptions(prompt="p", image_size="2K"), (6000, 4000), 2560),
        # A model that takes no image size makes 1K outputs whatever the slot asks.
        (GeminiEditOptions(prompt="p", model="gemini-2.5-flash-image", image_size="4K"), (6000, 4000), 1280),
        # The slot's own choice wins.
        (GeminiEditOptions(prompt="p", input_long_side=2000), (6000, 4000), 2000),
    ],
)
def test_the_photo_goes_at_the_long_side_of_the_output_it_becomes(
    gemini: GeminiProvider, options: GeminiEditOptions, size: tuple[int, int], side: int
) -> None:
    assert gemini.input_side("edit", options, size) == side


async def test_the_photo_is_sent_at_the_slots_input_size(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    photo = images.jpeg(3000, 2000)
    options = GeminiEditOptions(prompt="p", input_long_side=600)
    await gemini.run("edit", make_request(options, image=photo, seconds=10))
    sent = base64.b64decode(gemini_fake.last().json["contents"][0]["parts"][0]["inline_data"]["data"])
    assert decode(sent).size == (600, 400)


def test_an_input_size_outside_what_gemini_takes_is_refused() -> None:
    with pytest.raises(ValidationError):
        GeminiEditOptions(prompt="p", input_long_side=4000)
    with pytest.raises(ValidationError):
        GeminiEditOptions(prompt="p", input_long_side=100)
