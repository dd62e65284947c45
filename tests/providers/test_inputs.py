"""What drivers send and keep: the photo read only when a driver needs its bytes, clean JPEGs kept as they
are (a passthrough's own bytes, an upstream's answer without a second compression)."""

import base64
import dataclasses
import io
from pathlib import Path

import pytest
from PIL import Image

from photochanger.core.images import PreparedImage, strip_jpeg_metadata
from photochanger.providers.base import Photo, ProviderFailed
from photochanger.providers.gemini.driver import GeminiProvider
from photochanger.providers.gemini.schemas import GeminiEditOptions
from photochanger.providers.gpt_image.driver import GptImageProvider
from photochanger.providers.gpt_image.schemas import GptImageEditOptions
from photochanger.providers.imaging import finish_bytes
from photochanger.providers.local.driver import LocalProvider
from photochanger.providers.local.schemas import PassthroughOptions
from photochanger.providers.openrouter.driver import OpenRouterProvider
from photochanger.providers.openrouter.schemas import OpenRouterEditOptions
from tests.fakes.gemini import GeminiFake
from tests.providers.conftest import make_request
from tests.support import images


async def test_a_driver_sending_the_prepared_input_never_reads_the_photo(
    gemini: GeminiProvider, gemini_fake: GeminiFake, tmp_path: Path
) -> None:
    path = tmp_path / "upload"
    path.write_bytes(images.jpeg(3000, 2000))
    side = gemini.input_side("edit", GeminiEditOptions(prompt="p"), (3000, 2000))
    ready = PreparedImage(images.jpeg(side, side * 2 // 3), "image/jpeg", side, side * 2 // 3, side)
    photo = Photo(path=path)
    request = dataclasses.replace(
        make_request(GeminiEditOptions(prompt="p"), seconds=10),
        photo=photo,
        prepared_input=ready,
        image_size=(3000, 2000),
    )
    await gemini.run("edit", request)
    assert not photo.loaded
    sent = gemini_fake.last().json["contents"][0]["parts"][0]["inline_data"]["data"]
    assert base64.b64decode(sent) == ready.data


def test_a_photo_is_read_once_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes(b"\xff\xd8 photo")
    photo = Photo(path=path)
    assert not photo.loaded
    assert photo.data == b"\xff\xd8 photo"
    path.unlink()
    assert photo.data == b"\xff\xd8 photo"
    assert photo.loaded


async def test_a_clean_jpeg_passes_through_as_its_own_bytes() -> None:
    clean = images.jpeg(320, 240)
    request = make_request(PassthroughOptions(), image=clean)
    result = await LocalProvider().run("passthrough", request)
    assert result.data is request.image
    assert result.photo is request.photo
    assert result.meta["same_bytes"] is True
    tagged = images.jpeg(320, 240, orientation=1)
    result = await LocalProvider().run("passthrough", make_request(PassthroughOptions(), image=tagged))
    assert result.data == strip_jpeg_metadata(tagged)
    assert result.photo is None
    assert result.meta["same_bytes"] is False


async def test_a_photo_known_to_be_metadata_free_passes_through_unread(tmp_path: Path) -> None:
    """The validation found nothing to drop: the result is the photo itself, and its file is never read."""
    path = tmp_path / "upload"
    path.write_bytes(images.jpeg(320, 240))
    photo = Photo(path=path, metadata_free=True)
    request = dataclasses.replace(make_request(PassthroughOptions()), photo=photo)
    result = await LocalProvider().run("passthrough", request)
    assert result.photo is photo
    assert not photo.loaded
    assert result.meta["same_bytes"] is True
    assert result.data == path.read_bytes()
    # Stamped, or wanted as PNG, it is decoded and encoded as before.
    stamped = dataclasses.replace(
        request, options=PassthroughOptions(stamp_qr=True), guest_url="https://x.test/r/1"
    )
    assert (await LocalProvider().run("passthrough", stamped)).photo is None
    as_png = dataclasses.replace(request, output_type="image/png")
    assert Image.open(io.BytesIO((await LocalProvider().run("passthrough", as_png)).data)).format == "PNG"


def test_an_upstreams_jpeg_keeps_its_compressed_data() -> None:
    answer = images.jpeg(640, 480, orientation=1)
    request = make_request(GeminiEditOptions(prompt="p"))
    assert finish_bytes(answer, request) == strip_jpeg_metadata(answer)
    # Stamped, or wanted as PNG: decoded and encoded again.
    stamped = make_request(GeminiEditOptions(prompt="p", stamp_qr=True), guest_url="https://x.test/r/1")
    assert finish_bytes(answer, stamped) != strip_jpeg_metadata(answer)
    as_png = make_request(GeminiEditOptions(prompt="p"), output_type="image/png")
    assert Image.open(io.BytesIO(finish_bytes(answer, as_png))).format == "PNG"


def test_a_truncated_jpeg_answer_is_still_refused() -> None:
    answer = images.jpeg(640, 480)
    with pytest.raises(ProviderFailed):
        finish_bytes(answer[: len(answer) // 2], make_request(GeminiEditOptions(prompt="p")))


def test_openrouter_and_gpt_image_size_the_photo_by_their_outputs(
    openrouter: OpenRouterProvider, gpt_image: GptImageProvider
) -> None:
    google = OpenRouterEditOptions(prompt="p", model="google/gemini-2.5-flash-image")
    assert openrouter.input_side("edit", google, (6000, 4000)) == 1280
    google_2k = OpenRouterEditOptions(prompt="p", model="google/gemini-3-pro-image", image_size="2K")
    assert openrouter.input_side("edit", google_2k, (6000, 4000)) == 2048  # OpenRouter's cap
    other = OpenRouterEditOptions(prompt="p", model="openai/gpt-5-image")
    assert openrouter.input_side("edit", other, (6000, 4000)) == 2048
    assert gpt_image.input_side("edit", GptImageEditOptions(prompt="p"), (6000, 4000)) == 1536
