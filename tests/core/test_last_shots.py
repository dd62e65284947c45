"""The last booth shot per slot: one file, replaced atomically by the next shot, never offered once older
than the result lifetime, and removed by age."""

import os
from datetime import timedelta
from pathlib import Path

import pytest

from photochanger.core import last_shots
from photochanger.core.time import utcnow
from tests.support import images

TTL = timedelta(hours=2)


def _upload(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "temp" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_the_next_shot_replaces_the_last_and_outlives_its_upload(tmp_path: Path) -> None:
    first, second = images.jpeg(40, 30), images.png(20, 10)
    upload = _upload(tmp_path, "a.upload", first)
    last_shots.keep(tmp_path, "slot-001", upload)
    upload.unlink()  # the pipeline deletes its upload afterwards
    shot = last_shots.find(tmp_path, "slot-001", max_age=TTL, now=utcnow())
    assert shot is not None
    assert (shot.content_type, shot.size, shot.path.read_bytes()) == ("image/jpeg", len(first), first)
    last_shots.keep(tmp_path, "slot-001", _upload(tmp_path, "b.upload", second))
    again = last_shots.find(tmp_path, "slot-001", max_age=TTL, now=utcnow())
    assert again is not None
    assert (again.content_type, again.path.read_bytes()) == ("image/png", second)
    assert sorted(p.name for p in (tmp_path / "last_shots").iterdir()) == ["slot-001"]
    assert last_shots.find(tmp_path, "slot-002", max_age=TTL, now=utcnow()) is None


def test_an_old_shot_is_not_offered_and_is_removed_by_age(tmp_path: Path) -> None:
    last_shots.keep(tmp_path, "slot-003", _upload(tmp_path, "c.upload", images.jpeg(20, 20)))
    last_shots.keep(tmp_path, "slot-004", _upload(tmp_path, "d.upload", images.jpeg(20, 20)))
    old = (utcnow() - TTL - timedelta(minutes=1)).timestamp()
    os.utime(tmp_path / "last_shots" / "slot-003", (old, old))
    assert last_shots.find(tmp_path, "slot-003", max_age=TTL, now=utcnow()) is None
    assert last_shots.remove_expired(tmp_path, max_age=TTL, now=utcnow(), dry_run=True) == 1
    assert (tmp_path / "last_shots" / "slot-003").exists()
    assert last_shots.remove_expired(tmp_path, max_age=TTL, now=utcnow()) == 1
    assert sorted(p.name for p in (tmp_path / "last_shots").iterdir()) == ["slot-004"]


def test_a_path_outside_the_tree_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="slot id"):
        last_shots.path_of(tmp_path, "../etc")
