"""Where results, previews, event originals and template media are kept: one interface, two backends.

`LocalStore` is today's `media_root` tree on the filesystem (the default); `S3Store` (in `core.s3_store`) keeps
the same keys as objects in an S3-compatible bucket, so several nodes share one set of media. A key is the
relative path the database stores (`results/<slot>/<job>.jpg`); the backends refuse any other shape.

Upload temp files and provider input links stay on the local disk of the node that took the upload
(`MediaLayout.temp`): they live for one request only.

Every method blocks (disk or network): call them through `anyio.to_thread.run_sync` from async code.
"""

import functools
import os
import posixpath
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, ClassVar

from photochanger.core.disk import MIB, InsufficientStorage, has_room
from photochanger.core.storage import MediaLayout, link_atomic, map_file, sync_dir, writable, write_atomic

# The top-level trees a key may start with.
TREES = ("results", "previews", "originals", "templates", "last_shots")
# At most this many keys per delete request (the S3 `DeleteObjects` limit).
DELETE_BATCH = 1000


class InvalidKey(ValueError):
    """A key that is not a plain relative path under one of `TREES`."""


def check_key(key: str) -> str:
    """`key` if it is `<tree>/...` with no empty, `.` or `..` part; raises `InvalidKey` otherwise."""
    if (
        not key
        or key.startswith("/")
        or "\\" in key
        or "\x00" in key
        or posixpath.normpath(key) != key
        or key.split("/", 1)[0] not in TREES
        or "/" not in key
        or any(part in ("", ".", "..") for part in key.split("/"))
    ):
        raise InvalidKey(f"not a media key: {key!r}")
    return key


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: float  # seconds since the epoch


@dataclass
class Deletion:
    """What a `delete` did: keys removed, keys already absent, keys that failed (key -> reason)."""

    deleted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    # Bytes freed where the backend knows them (the filesystem does; a bucket's batch delete does not say).
    bytes: int = 0


@dataclass(frozen=True)
class S3Settings:
    """How to reach the bucket; built from `AppConfig` (`AppConfig.s3_settings`)."""

    bucket: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    key_prefix: str = ""
    presign_ttl_seconds: int = 300  # 0: downloads stream through the app instead of a presigned URL
    quota_bytes: int = 0  # 0: no quota
    # How long one node trusts its last count of the bytes stored before listing the bucket again.
    usage_refresh_seconds: float = 30.0


class MediaStore(ABC):
    """The media of every job and template, by key. See the module docstring."""

    kind: ClassVar[str]

    def __init__(self, layout: MediaLayout) -> None:
        # The node-local tree for temp files; the local backend keeps everything under it.
        self.layout = layout

    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` at `key` so that readers see either nothing or all of it."""

    @abstractmethod
    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the fully written local file `path` at `key`; `path` is consumed (moved or removed)."""

    @abstractmethod
    def put_copy(self, key: str, path: Path, content_type: str) -> None:
        """Store what the local file `path` holds at `key`, leaving `path` as it is (a booth upload that is
        also the result, an event's original or the slot's last shot)."""

    @abstractmethod
    def read(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""

    def read_view(self, key: str) -> bytes | memoryview | None:
        """The object's bytes to answer with, or None: on the filesystem a read-only map of its file (see
        `storage.map_file`: a 12 MB result is never read into memory), from a bucket its bytes."""
        return self.read(key)

    @abstractmethod
    def open(self, key: str) -> BinaryIO | None:
        """A readable binary stream of the object (the caller closes it), or None when there is none."""

    @abstractmethod
    def stat(self, key: str) -> StoredObject | None:
        """Size and modification time, or None when there is no such object."""

    @abstractmethod
    def delete(self, keys: Sequence[str]) -> Deletion:
        """Remove `keys` (absent ones count as `missing`, never as failures)."""

    @abstractmethod
    def list(self, tree: str) -> Iterator[StoredObject]:
        """Every object whose key starts with `tree + "/"`."""

    @abstractmethod
    def used_bytes(self) -> int:
        """Bytes the media take (results, previews, originals, templates)."""

    @abstractmethod
    def ensure_room(self, needed_bytes: int) -> None:
        """Raise `InsufficientStorage` (507) unless `needed_bytes` more may be stored."""

    @abstractmethod
    def check(self) -> bool:
        """Whether the store takes writes now (readiness)."""

    def local_path(self, key: str) -> Path | None:
        """The file holding `key` when the backend is the local filesystem; None for a bucket."""
        return None

    def download_url(self, key: str, *, filename: str, content_type: str) -> str | None:
        """A short-lived URL a browser may fetch the object from directly, or None (serve it yourself)."""
        return None

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None


class LocalStore(MediaStore):
    """Media as files under `media_root`, written atomically (temp file, fsync, rename)."""

    kind = "local"

    def __init__(self, layout: MediaLayout, *, min_free_mb: int = 0) -> None:
        super().__init__(layout)
        self.min_free_mb = min_free_mb

    def _path(self, key: str) -> Path:
        return self.layout.resolve(check_key(key))

    def put(self, key: str, data: bytes, content_type: str) -> None:
        write_atomic(self._path(key), data)

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        path.replace(dest)
        sync_dir(dest.parent)

    def put_copy(self, key: str, path: Path, content_type: str) -> None:
        # A second name of the same file (nothing copied) where the file system allows it, else a copy.
        dest = self._path(key)
        try:
            link_atomic(path, dest)
        except OSError:
            write_atomic(dest, path.read_bytes())

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def read_view(self, key: str) -> bytes | memoryview | None:
        try:
            return map_file(self._path(key))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def open(self, key: str) -> BinaryIO | None:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def stat(self, key: str) -> StoredObject | None:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not path.is_file():
            return None
        return StoredObject(key, st.st_size, st.st_mtime)

    def delete(self, keys: Sequence[str]) -> Deletion:
        outcome = Deletion()
        for key in keys:
            try:
                path = self._path(key)
                size = path.lstat().st_size
                path.unlink()
            except FileNotFoundError:
                outcome.missing.append(key)
            except (OSError, InvalidKey, ValueError) as exc:
                outcome.failed[key] = getattr(exc, "strerror", None) or str(exc)
            else:
                outcome.deleted.append(key)
                outcome.bytes += size
        return outcome

    def list(self, tree: str) -> Iterator[StoredObject]:
        base = self.layout.root / tree
        if not base.is_dir():
            return
        for dirpath, _dirs, names in os.walk(base):
            for name in names:
                path = Path(dirpath) / name
                try:
                    st = path.lstat()
                except FileNotFoundError:  # removed between listing and stat
                    continue
                if path.is_symlink():
                    continue
                yield StoredObject(path.relative_to(self.layout.root).as_posix(), st.st_size, st.st_mtime)

    def used_bytes(self) -> int:
        return sum(obj.size for tree in TREES for obj in self.list(tree))

    def ensure_room(self, needed_bytes: int) -> None:
        if not has_room(self.layout.root, self.min_free_mb * MIB, needed_bytes):
            raise InsufficientStorage(
                f"Less than {self.min_free_mb} MiB would be left free for media; the upload was not stored."
            )

    def check(self) -> bool:
        return writable(self.layout.root)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


@functools.lru_cache(maxsize=32)
def open_store(root: Path, *, min_free_mb: int, s3: S3Settings | None) -> MediaStore:
    """The store a process uses: the bucket when `s3` is given, else the filesystem under `root`. One per
    configuration and process (cached), so every caller shares the bucket client and its usage count."""
    layout = MediaLayout(root)
    if s3 is None:
        return LocalStore(layout, min_free_mb=min_free_mb)
    from photochanger.core.s3_store import S3Store

    return S3Store(layout, s3, min_free_mb=min_free_mb)
