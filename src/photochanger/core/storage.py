"""Where media lives under `media_root`, and atomic writes (temp file or second link, fsync, rename)."""

import mmap
import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MediaLayout:
    """Paths under the media root. Paths stored in the database are relative to `root`."""

    root: Path

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def previews(self) -> Path:
        return self.root / "previews"

    @property
    def temp(self) -> Path:
        return self.root / "temp"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    def result_relpath(self, slot_id: str, job_id: str, extension: str) -> str:
        return f"results/{slot_id}/{job_id}.{extension}"

    def preview_relpath(self, slot_id: str, job_id: str) -> str:
        return f"previews/{slot_id}/{job_id}.jpg"

    def original_relpath(self, slot_id: str, job_id: str, extension: str) -> str:
        """The original shot an event keeps beside the result (see `events`)."""
        return f"originals/{slot_id}/{job_id}.{extension}"

    def upload_path(self, owner: str, job_id: str) -> Path:
        """Temp file of an upload in progress; the owner prefix lets crash recovery find a dead process's."""
        return self.temp / f"{owner}.{job_id}.upload"

    def resolve(self, relpath: str) -> Path:
        """Absolute path of a stored relative path; refuses anything that would leave the media root."""
        candidate = (self.root / relpath).resolve()
        root = self.root.resolve()
        if candidate != root and root not in candidate.parents:
            raise ValueError("path escapes the media root")
        return candidate


def sync_dir(directory: Path) -> None:
    """fsync a directory, so a name just created or renamed in it survives a crash."""
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def writable(root: Path) -> bool:
    """Whether a file can be created under `root` (made if missing): the readiness probe of a media tree."""
    probe = root / f".ready-{secrets.token_hex(6)}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        probe.unlink()
    except OSError:
        return False
    return True


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` so that `path` either does not exist or holds all of it. Blocking: run in a thread."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_dir(path.parent)


def link_atomic(source: Path, path: Path) -> None:
    """Make `path` a second name of the file `source` (same file system), as durable as `write_atomic`
    leaves a copy: `source`'s data and the new name are synced, nothing is copied. For a result that is
    the upload itself: the upload's temp name is removed later and the file lives on under `path`.
    Blocking: run in a thread."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(source, os.O_RDONLY)
    try:
        os.fsync(fd)
        # Results are readable by the group (a web server in front); uploads are spooled private.
        os.fchmod(fd, 0o640)
    finally:
        os.close(fd)
    try:
        os.link(source, tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_dir(path.parent)


def map_file(path: Path) -> bytes | memoryview:
    """The file's bytes as a read-only map of its pages: nothing read or copied up front, the kernel sends
    them from the page cache. Safe for media files because they are only ever replaced (rename) or unlinked,
    never rewritten in place. The map lasts as long as the view; raises `OSError` (`FileNotFoundError`)."""
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return b""
        return memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))


def unlink_quietly(*paths: Path | None) -> None:
    for path in paths:
        if path is not None:
            path.unlink(missing_ok=True)
