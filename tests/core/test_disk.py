"""Free space and media usage per slot."""

import shutil
from pathlib import Path

import pytest

from photochanger.core import disk
from photochanger.core.disk import InsufficientStorage


def _write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)


async def test_usage_per_slot_and_in_total(tmp_path: Path) -> None:
    root = tmp_path / "media"
    _write(root / "results/slot-001/a.jpg", 1000)
    _write(root / "results/slot-001/b.png", 500)
    _write(root / "previews/slot-001/a.jpg", 100)
    _write(root / "results/slot-002/c.jpg", 300)
    _write(root / "templates/slot-001/bg.png", 7000)
    _write(root / "temp/x.upload", 40)
    (root / "results/slot-002/link.jpg").symlink_to(root / "templates/slot-001/bg.png")

    usage = await disk.disk_usage(root)

    assert list(usage.slots) == ["slot-001", "slot-002"]
    one = usage.slots["slot-001"]
    assert (one.results.files, one.results.bytes, one.previews.files, one.previews.bytes) == (2, 1500, 1, 100)
    assert one.bytes == 1600
    assert usage.slots["slot-002"].results.files == 1  # the symlink is not counted
    assert (usage.templates.bytes, usage.temp.bytes) == (7000, 40)
    assert usage.media_bytes == 1600 + 300 + 7000 + 40
    assert usage.filesystem_free_bytes > 0
    assert usage.filesystem_total_bytes >= usage.filesystem_free_bytes


async def test_usage_of_a_missing_media_root_is_empty(tmp_path: Path) -> None:
    usage = await disk.disk_usage(tmp_path / "not-yet")
    assert usage.slots == {}
    assert usage.media_bytes == 0


def test_free_bytes_uses_the_nearest_existing_parent(tmp_path: Path) -> None:
    free = disk.free_bytes(tmp_path / "a" / "b")
    assert free > 0
    assert abs(free - shutil.disk_usage(tmp_path).free) < 64 * disk.MIB


async def test_ensure_room_refuses_with_507_below_the_floor(tmp_path: Path) -> None:
    free_mb = disk.free_bytes(tmp_path) // disk.MIB
    await disk.ensure_room(tmp_path, min_free_mb=0)
    await disk.ensure_room(tmp_path, min_free_mb=1, needed_bytes=disk.MIB)
    with pytest.raises(InsufficientStorage) as exc:
        await disk.ensure_room(tmp_path, min_free_mb=free_mb + 1024)
    assert exc.value.status_code == 507
    assert exc.value.code == "insufficient_storage"
    with pytest.raises(InsufficientStorage):
        await disk.ensure_room(tmp_path, min_free_mb=1, needed_bytes=(free_mb + 10) * disk.MIB)
