"""What flows through the pipeline: the request a caller hands in, the upload once received (checked and
ready to become a job), and the two answers (the image, or a queued job's id)."""

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from photochanger.accounts.store import KeyStore
from photochanger.config import AppConfig
from photochanger.core import images
from photochanger.core.links import Links
from photochanger.core.media_store import MediaStore
from photochanger.core.multipart import ParsedUpload
from photochanger.core.storage import MediaLayout
from photochanger.ingest.chain import Attempt, Link
from photochanger.ingest.pipeline.db import Transactions
from photochanger.models import JobSource
from photochanger.providers.base import Deadline, Provider
from photochanger.providers.registry import ProviderRegistry
from photochanger.settings.schemas import RuntimeSettings
from photochanger.slots.schemas import SlotSettings

MIB = 1024 * 1024
PREVIEW_LONG_SIDE = 320
# Text fields never stored nor shown to the admin.
SECRET_FIELDS = frozenset({"password"})


@dataclass(frozen=True)
class IngestRequest:
    """One photo for the pipeline. A booth's arrives as its multipart `body` (streamed, password checked);
    an admin test run hands in the `upload` it already read (`source=ui_test`, no password, with
    `slot_override` (provider, operation, settings) when it tries unsaved settings). `arrived_at` is
    `time.monotonic()` when the request arrived: the deadline counts from there. `client` is the sender's
    address: wrong passwords are throttled per client."""

    slot_id: str
    arrived_at: float
    body: AsyncIterator[bytes] | None = None
    upload: ParsedUpload | None = None
    content_type: str | None = None
    content_length: int | None = None
    idempotency_header: str | None = None
    client: str | None = None
    source: JobSource = JobSource.ingest
    slot_override: tuple[str, str, SlotSettings] | None = None
    now: datetime | None = None

    @classmethod
    def test_run(
        cls,
        slot_id: str,
        upload: ParsedUpload,
        arrived_at: float,
        override: tuple[str, str, SlotSettings] | None = None,
    ) -> "IngestRequest":
        """An admin's test run of the photo its route already read (saved settings, or `override`)."""
        return cls(
            slot_id=slot_id,
            arrived_at=arrived_at,
            upload=upload,
            source=JobSource.ui_test,
            slot_override=override,
        )

    @property
    def checks_password(self) -> bool:
        return self.source is JobSource.ingest


@dataclass(frozen=True)
class IngestResult:
    """The booth's image: `data` is its bytes, or a read-only map of the stored result file (the answer to a
    passthrough, a replay), which the server sends from the page cache."""

    job_id: str
    data: bytes | memoryview
    content_type: str
    result_url: str
    guest_url: str
    fallback: str | None = None
    duration_ms: int = 0
    joined: bool = False


@dataclass(frozen=True)
class Accepted:
    """An asynchronous job that was queued (or an earlier job with the same idempotency key)."""

    job_id: str
    joined: bool = False


@dataclass(frozen=True)
class Context:
    """The slot as this upload runs it, and the runtime settings of the moment."""

    slot_id: str
    provider: str
    operation: str
    slot_settings: SlotSettings
    runtime: RuntimeSettings
    password_hash: str | None


@dataclass
class Received:
    """A received and validated upload, ready to become a job (`IngestService.process` or `queue`)."""

    ctx: Context
    job_id: str
    upload: ParsedUpload
    info: images.ImageInfo
    deadline: Deadline
    provider: Provider
    options: BaseModel
    source: JobSource
    arrived_at: float
    started: datetime
    idempotency_key: str | None
    # The upload's text fields but the secret ones, to name the booth when it is refused.
    fields: dict[str, str] = field(default_factory=dict)
    mode: str = "sync"
    published: list[Path] = field(default_factory=list)
    # (event id, keep originals) of the open event the slot belonged to when the job was inserted.
    event: tuple[str, bool] | None = None
    # Bytes reserved in `Admission.inflight` for the upload's life (its bytes and the result's).
    memory: int = 0
    # The chain: the primary (index 0) and the fallbacks still usable; and, once run, what each did.
    links: list[Link] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    result_link: Link | None = None

    def chain(self) -> list[Link]:
        return self.links or [Link(0, self.provider, self.ctx.operation, self.options)]


def public_fields(fields: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in fields.items() if k not in SECRET_FIELDS}


def elapsed_ms(since: float) -> int:
    return int((time.monotonic() - since) * 1000)


class JobLinks:
    """The absolute links of a job the booth, the webhook and the status API hand out."""

    def __init__(self, config: AppConfig) -> None:
        self.config = config

    def result_url(self, job_id: str) -> str:
        return self.config.absolute_url(Links.result(job_id))

    def guest_url(self, job_id: str) -> str:
        return self.config.absolute_url(Links.guest_page(job_id))

    def status_url(self, job_id: str) -> str:
        return self.config.absolute_url(Links.job_status(job_id))

    def answer(
        self,
        job_id: str,
        data: bytes | memoryview,
        content_type: str,
        *,
        duration_ms: int,
        fallback: str | None = None,
        joined: bool = False,
    ) -> IngestResult:
        """The booth's image with the job's links."""
        return IngestResult(
            job_id,
            data,
            content_type,
            self.result_url(job_id),
            self.guest_url(job_id),
            fallback=fallback,
            duration_ms=duration_ms,
            joined=joined,
        )


@dataclass(frozen=True)
class Kit:
    """What the stages share, built once by the facade."""

    config: AppConfig
    layout: MediaLayout
    owner: str
    providers: ProviderRegistry
    keys: KeyStore | None
    db: Transactions
    links: JobLinks
    # The jobs this process runs now, each with the event set when it ends (for joined repeats).
    running: dict[str, asyncio.Event]
    # Where results, previews and originals go (the filesystem or the bucket); `layout` keeps the temp files.
    store: MediaStore
