"""`core.storage`: atomic writes and second links under the media root."""

import stat
from pathlib import Path

from photochanger.core.storage import link_atomic, write_atomic


def test_link_atomic_gives_the_file_a_second_name_without_copying_it(tmp_path: Path) -> None:
    source = tmp_path / "temp" / "owner.job.upload"
    source.parent.mkdir()
    source.write_bytes(b"\xff\xd8 a photo \xff\xd9")
    source.chmod(0o600)
    target = tmp_path / "results" / "slot-001" / "job.jpg"
    link_atomic(source, target)
    assert target.read_bytes() == source.read_bytes()
    assert target.stat().st_ino == source.stat().st_ino
    # Readable by the group like every written result, and no temp name left beside it.
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["job.jpg"]
    source.unlink()
    assert target.read_bytes() == b"\xff\xd8 a photo \xff\xd9"


def test_link_atomic_replaces_what_was_there(tmp_path: Path) -> None:
    target = tmp_path / "result.jpg"
    write_atomic(target, b"old")
    source = tmp_path / "upload"
    source.write_bytes(b"new")
    link_atomic(source, target)
    assert target.read_bytes() == b"new"
