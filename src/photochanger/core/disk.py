"""Free space and media usage under `media_root`: the floor ingest checks (507) and the numbers the API reports."""

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from photochanger.core.errors import PhotoChangerError

if TYPE_CHECKING:
    from photochanger.core.media_store import MediaStore

MIB = 1024 * 1024
# Only these trees hold per-slot job output; templates and temp files are counted apart.
RESULT_DIRS = ("results", "previews")


class InsufficientStorage(PhotoChangerError):
    status_code = 507
    code = "insufficient_storage"
    title = "Insufficient storage"


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged process may still write on the filesystem holding `path` (nearest existing parent)."""
    return shutil.disk_usage(_existing(path)).free


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def has_room(path: Path, min_free_bytes: int, needed_bytes: int = 0) -> bool:
    """Whether writing `needed_bytes` under `path` leaves at least `min_free_bytes` free."""
    return free_bytes(path) - needed_bytes >= min_free_bytes


async def ensure_room(path: Path, min_free_mb: int, needed_bytes: int = 0) -> None:
    """Raise `InsufficientStorage` (507) unless `needed_bytes` fit above the `min_free_mb` floor.

    Call it before writing anything, so a full disk never leaves partial files behind.
    """
    room = await anyio.to_thread.run_sync(has_room, path, min_free_mb * MIB, needed_bytes)
    if not room:
        raise InsufficientStorage(
            f"Less than {min_free_mb} MiB would be left free for media; the upload was not stored."
        )


@dataclass
class TreeUsage:
    files: int = 0
    bytes: int = 0

    def add(self, size: int) -> None:
        self.files += 1
        self.bytes += size


@dataclass
class SlotUsage:
    results: TreeUsage = field(default_factory=TreeUsage)
    previews: TreeUsage = field(default_factory=TreeUsage)

    @property
    def bytes(self) -> int:
        return self.results.bytes + self.previews.bytes


@dataclass
class DiskUsage:
    """Media usage: per slot (results + previews), template media, temp files, and the filesystem totals."""

    slots: dict[str, SlotUsage]
    templates: TreeUsage
    temp: TreeUsage
    filesystem_total_bytes: int
    filesystem_free_bytes: int

    @property
    def media_bytes(self) -> int:
        return sum(s.bytes for s in self.slots.values()) + self.templates.bytes + self.temp.bytes


def _walk(root: Path) -> list[tuple[Path, int]]:
    out: list[tuple[Path, int]] = []
    if not root.is_dir():
        return out
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            try:
                stat = path.lstat()
            except FileNotFoundError:  # deleted by a concurrent cleanup between listing and stat
                continue
            if path.is_symlink():
                continue
            out.append((path, stat.st_size))
    return out


def _tree(media_root: Path, store: "MediaStore | None", tree: str) -> list[tuple[str, int]]:
    """(path relative to the tree, size) of every file or object under `tree`."""
    if store is None:
        base = media_root / tree
        return [(path.relative_to(base).as_posix(), size) for path, size in _walk(base)]
    return [(obj.key[len(tree) + 1 :], obj.size) for obj in store.list(tree)]


def disk_usage_sync(media_root: Path, store: "MediaStore | None" = None) -> DiskUsage:
    """Walk the media tree (results, previews and templates in `store` when given; temp files always under
    `media_root`). Blocking: use `disk_usage` from async code."""
    slots: dict[str, SlotUsage] = {}
    for tree in RESULT_DIRS:
        for rel, size in _tree(media_root, store, tree):
            parts = rel.split("/")
            if len(parts) < 2:  # a file directly under results/ belongs to no slot
                continue
            usage = slots.setdefault(parts[0], SlotUsage())
            getattr(usage, tree).add(size)
    templates, temp = TreeUsage(), TreeUsage()
    for _rel, size in _tree(media_root, store, "templates"):
        templates.add(size)
    for _path, size in _walk(media_root / "temp"):
        temp.add(size)
    total = shutil.disk_usage(_existing(media_root))
    return DiskUsage(
        slots=dict(sorted(slots.items())),
        templates=templates,
        temp=temp,
        filesystem_total_bytes=total.total,
        filesystem_free_bytes=total.free,
    )


async def disk_usage(media_root: Path, store: "MediaStore | None" = None) -> DiskUsage:
    """Usage per slot and in total, walked in a worker thread so the event loop never blocks on the disk."""
    return await anyio.to_thread.run_sync(disk_usage_sync, media_root, store)
