"""The last booth shot per slot: one file, replaced atomically by the next shot, never offered once older
than the result lifetime, and removed by age."""

import os
from datetime import timedelta
from pathlib import Path

import pytest

from photochanger.core import last_shots
from photochanger.core.media_store import LocalStore
from photochanger.core.storage import MediaLayout
from photochanger.core.time import utcnow
from tests.support import images

TTL = timedelta(hours=2)


def _upload(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "temp" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _store(tmp_path: Path) -> LocalStore:
    return LocalStore(MediaLayout(tmp_path))


def test_the_next_shot_replaces_the_last_and_outlives_its_upload(tmp_path: Path) -> None:
    store = _store(tmp_path)
    first, second = images.jpeg(40, 30), images.png(20, 10)
    upload = _upload(tmp_path, "a.upload", first)
    last_shots.keep(store, "slot-001", upload, "image/jpeg")
    upload.unlink()  # the pipeline deletes its upload afterwards
    shot = last_shots.find(store, "slot-001", max_age=TTL, now=utcnow())
    assert shot is not None
    assert (shot.content_type, shot.size, store.read(shot.key)) == ("image/jpeg", len(first), first)
    last_shots.keep(store, "slot-001", _upload(tmp_path, "b.upload", second), "image/png")
    again = last_shots.find(store, "slot-001", max_age=TTL, now=utcnow())
    assert again is not None
    assert (again.content_type, store.read(again.key)) == ("image/png", second)
    assert sorted(p.name for p in (tmp_path / "last_shots").iterdir()) == ["slot-001"]
    assert last_shots.find(store, "slot-002", max_age=TTL, now=utcnow()) is None


def test_an_old_shot_is_not_offered_and_is_removed_by_age(tmp_path: Path) -> None:
    store = _store(tmp_path)
    last_shots.keep(store, "slot-003", _upload(tmp_path, "c.upload", images.jpeg(20, 20)), "image/jpeg")
    last_shots.keep(store, "slot-004", _upload(tmp_path, "d.upload", images.jpeg(20, 20)), "image/jpeg")
    old = (utcnow() - TTL - timedelta(minutes=1)).timestamp()
    os.utime(tmp_path / "last_shots" / "slot-003", (old, old))
    assert last_shots.find(store, "slot-003", max_age=TTL, now=utcnow()) is None
    assert last_shots.remove_expired(store, max_age=TTL, now=utcnow(), dry_run=True) == 1
    assert (tmp_path / "last_shots" / "slot-003").exists()
    assert last_shots.remove_expired(store, max_age=TTL, now=utcnow()) == 1
    assert sorted(p.name for p in (tmp_path / "last_shots").iterdir()) == ["slot-004"]


def test_a_path_outside_the_tree_is_refused() -> None:
    with pytest.raises(ValueError, match="slot id"):
        last_shots.key_of("../etc")
