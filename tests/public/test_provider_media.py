"""Provider-media links carry the extension of their content; a link naming another one is not served."""

import time
from pathlib import Path

import pytest

from photochanger.core.storage import MediaLayout
from photochanger.public import provider_media


def _layout(tmp_path: Path) -> MediaLayout:
    layout = MediaLayout(tmp_path)
    layout.temp.mkdir(parents=True)
    return layout


def test_a_link_with_the_files_own_extension_is_found(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    token, _ = provider_media.publish(layout, "w1", b"png bytes", "image/png", time.time() + 60)
    item = provider_media.find(layout, token, ext="png")
    assert item.content_type == "image/png"
    assert provider_media.find(layout, token).content_type == "image/png"


def test_a_link_naming_another_extension_is_not_found(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    token, _ = provider_media.publish(layout, "w1", b"jpeg bytes", "image/jpeg", time.time() + 60)
    with pytest.raises(provider_media.ProviderMediaNotFound):
        provider_media.find(layout, token, ext="png")
