"""The last booth shot of each slot, kept so an admin can try unsaved settings on a real photo from the
booth (the slot editor's trial run). Originals are otherwise kept only by events that ask for them.

The decision, and why it respects the privacy posture: exactly one object per slot (`last_shots/<slot id>`
in the media store, so every node of a cluster sees the same one), replaced by the next booth shot (test
runs never replace it), served only to signed-in admins who may run tests (never by a public route, never
cached), and removed by cleanup once it is older than the result lifetime (`result_ttl_hours`), i.e. no
later than the guest link of the photo made from it; a shot older than that is never offered even before
cleanup runs. Blocking store work: run these in a thread."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from photochanger.core.images import sniff
from photochanger.core.media_store import MediaStore

LAST_SHOTS_DIR = "last_shots"


@dataclass(frozen=True)
class LastShot:
    slot_id: str
    key: str
    content_type: str
    taken_at: datetime
    size: int


def key_of(slot_id: str) -> str:
    if not slot_id or "/" in slot_id or slot_id.startswith("."):
        raise ValueError("not a slot id")
    return f"{LAST_SHOTS_DIR}/{slot_id}"


def keep(store: MediaStore, slot_id: str, source: Path, content_type: str) -> None:
    """Make `source` (a booth upload, not yet deleted, left as it is) the slot's last shot, replacing the
    previous one atomically: a second name of the file on the filesystem backend, an upload to the bucket."""
    store.put_copy(key_of(slot_id), source, content_type)


def find(store: MediaStore, slot_id: str, *, max_age: timedelta, now: datetime) -> LastShot | None:
    """The slot's last shot if it is younger than `max_age` at `now` and is an image, else None."""
    key = key_of(slot_id)
    stat = store.stat(key)
    if stat is None:
        return None
    taken_at = datetime.fromtimestamp(stat.modified, UTC)
    if now - taken_at > max_age:
        return None
    handle = store.open(key)
    if handle is None:
        return None
    with handle:
        content_type = sniff(handle.read(16))
    if content_type is None:
        return None
    return LastShot(slot_id, key, content_type, taken_at, stat.size)


def remove_expired(store: MediaStore, *, max_age: timedelta, now: datetime, dry_run: bool = False) -> int:
    """Delete the last shots older than `max_age` at `now` (one batch); returns how many."""
    old = [
        obj.key
        for obj in store.list(LAST_SHOTS_DIR)
        if now.timestamp() - obj.modified > max_age.total_seconds()
    ]
    if old and not dry_run:
        store.delete(old)
    return len(old)
