"""The last booth shot of each slot, kept so an admin can try unsaved settings on a real photo from the
booth (the slot editor's trial run). Originals are otherwise kept only by events that ask for them.

The decision, and why it respects the privacy posture: exactly one file per slot
(`media_root/last_shots/<slot id>`), replaced by the next booth shot (test runs never replace it), served
only to signed-in admins who may run tests (never by a public route, never cached), and removed by
cleanup once it is older than the result lifetime (`result_ttl_hours`), i.e. no later than the guest
link of the photo made from it; a shot older than that is never offered even before cleanup runs.
Blocking file work: run these in a thread."""

import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from photochanger.core.images import sniff

LAST_SHOTS_DIR = "last_shots"


@dataclass(frozen=True)
class LastShot:
    slot_id: str
    path: Path
    content_type: str
    taken_at: datetime
    size: int


def path_of(root: Path, slot_id: str) -> Path:
    if not slot_id or "/" in slot_id or slot_id.startswith("."):
        raise ValueError("not a slot id")
    return root / LAST_SHOTS_DIR / slot_id


def keep(root: Path, slot_id: str, source: Path) -> None:
    """Make `source` (a booth upload, not yet deleted) the slot's last shot, replacing the previous one
    atomically. A hard link when the media root allows it (no copy of a large photo), else a copy."""
    target = path_of(root, slot_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{slot_id}.{secrets.token_hex(4)}.tmp")
    try:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        tmp.chmod(0o640)
        # The link shares the upload's mtime: stamp the moment of the shot, which the lifetime counts from.
        os.utime(tmp)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def find(root: Path, slot_id: str, *, max_age: timedelta, now: datetime) -> LastShot | None:
    """The slot's last shot if it is younger than `max_age` at `now` and is an image, else None."""
    path = path_of(root, slot_id)
    try:
        stat = path.stat()
        with path.open("rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        return None
    taken_at = datetime.fromtimestamp(stat.st_mtime, UTC)
    content_type = sniff(head)
    if content_type is None or now - taken_at > max_age:
        return None
    return LastShot(slot_id, path, content_type, taken_at, stat.st_size)


def remove_expired(root: Path, *, max_age: timedelta, now: datetime, dry_run: bool = False) -> int:
    """Delete the last shots older than `max_age` at `now` (and stale half-written ones); returns how many."""
    base = root / LAST_SHOTS_DIR
    if not base.is_dir():
        return 0
    removed = 0
    for path in base.iterdir():
        try:
            age = now.timestamp() - path.lstat().st_mtime
        except FileNotFoundError:
            continue
        if age > max_age.total_seconds():
            if not dry_run:
                path.unlink(missing_ok=True)
            removed += 1
    return removed
