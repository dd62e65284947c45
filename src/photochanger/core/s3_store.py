"""Media in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, Cloudflare R2) through boto3.

boto3 is the reference S3 client: it signs presigned GETs (guest downloads go straight to the bucket),
deletes up to 1000 keys per `DeleteObjects` request, and talks to any S3 endpoint through `endpoint_url`.
One client per process; boto3 clients are thread-safe, and every call here runs in a worker thread.

A bucket has no free-space floor; instead a configured quota (bytes) bounds what the media may take. Each node
counts the bytes stored by listing the prefix at most every `usage_refresh_seconds` and adds what it wrote
since, so the check is as fresh as that interval across nodes.
"""

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from photochanger.core.disk import MIB, InsufficientStorage, has_room
from photochanger.core.media_store import (
    DELETE_BATCH,
    TREES,
    Deletion,
    MediaStore,
    S3Settings,
    StoredObject,
    check_key,
)
from photochanger.core.storage import MediaLayout

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in MISSING_CODES


class S3Store(MediaStore):
    kind = "s3"

    def __init__(self, layout: MediaLayout, settings: S3Settings, *, min_free_mb: int = 0) -> None:
        super().__init__(layout)
        self.settings = settings
        # Upload temp files still land under the media root: its disk floor holds for them.
        self.min_free_mb = min_free_mb
        self.bucket = settings.bucket
        self.prefix = settings.key_prefix.strip("/") + "/" if settings.key_prefix.strip("/") else ""
        self.client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region,
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            config=Config(
                retries={"max_attempts": 3, "mode": "standard"},
                max_pool_connections=32,
                connect_timeout=5,
                read_timeout=30,
                signature_version="s3v4",
                # Path-style works on every S3-compatible server; virtual hosts need DNS per bucket.
                s3={"addressing_style": "path"},
            ),
        )
        self._usage_lock = threading.Lock()
        self._usage: tuple[float, int] | None = None  # (monotonic time of the listing, bytes)
        self._written_since = 0

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _unprefixed(self, key: str) -> str:
        return key[len(self.prefix) :]

    def put(self, key: str, data: bytes, content_type: str) -> None:
        # A PUT is atomic on S3: readers see the old object, none, or all of the new one.
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)
        self._wrote(len(data))

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        self.put_copy(key, path, content_type)
        path.unlink(missing_ok=True)

    def put_copy(self, key: str, path: Path, content_type: str) -> None:
        size = path.stat().st_size
        self.client.upload_file(
            str(path), self.bucket, self._key(key), ExtraArgs={"ContentType": content_type}
        )
        self._wrote(size)

    def _get(self, key: str) -> BinaryIO | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return cast(BinaryIO, response["Body"])

    def read(self, key: str) -> bytes | None:
        body = self._get(key)
        if body is None:
            return None
        try:
            return body.read()
        finally:
            body.close()

    def open(self, key: str) -> BinaryIO | None:
        return self._get(key)

    def stat(self, key: str) -> StoredObject | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return StoredObject(key, int(head["ContentLength"]), head["LastModified"].timestamp())

    def delete(self, keys: Sequence[str]) -> Deletion:
        """`DeleteObjects` in batches of at most 1000 keys. S3 answers "deleted" for an absent key too, so
        nothing is reported missing, and the bytes freed are not known."""
        outcome = Deletion()
        wanted: list[str] = []
        for key in dict.fromkeys(keys):
            try:
                wanted.append(self._key(key))
            except ValueError as exc:
                outcome.failed[key] = str(exc)
        for start in range(0, len(wanted), DELETE_BATCH):
            batch = wanted[start : start + DELETE_BATCH]
            try:
                response = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
                )
            except (ClientError, BotoCoreError) as exc:
                outcome.failed.update((self._unprefixed(k), str(exc)) for k in batch)
                continue
            errors = {
                e.get("Key", ""): e.get("Message", e.get("Code", "")) for e in response.get("Errors", [])
            }
            for k in batch:
                if k in errors:
                    outcome.failed[self._unprefixed(k)] = errors[k] or "delete refused"
                else:
                    outcome.deleted.append(self._unprefixed(k))
        return outcome

    def list(self, tree: str) -> Iterator[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}{tree}/"):
            for item in page.get("Contents", []):
                yield StoredObject(
                    self._unprefixed(item["Key"]), int(item["Size"]), item["LastModified"].timestamp()
                )

    def _wrote(self, size: int) -> None:
        with self._usage_lock:
            self._written_since += size

    def used_bytes(self) -> int:
        return sum(obj.size for tree in TREES for obj in self.list(tree))

    def _stored_bytes(self) -> int:
        """The bytes stored, listed at most every `usage_refresh_seconds`, plus what this node wrote since."""
        now = time.monotonic()
        with self._usage_lock:
            cached = self._usage
            if cached is not None and now - cached[0] < self.settings.usage_refresh_seconds:
                return cached[1] + self._written_since
        total = self.used_bytes()
        with self._usage_lock:
            self._usage = (now, total)
            self._written_since = 0
            return total

    def ensure_room(self, needed_bytes: int) -> None:
        """The bucket's quota for what will be stored, and the local disk floor for the upload's temp file."""
        quota = self.settings.quota_bytes
        if quota > 0 and self._stored_bytes() + needed_bytes > quota:
            raise InsufficientStorage(
                f"The media bucket's quota of {quota} bytes would be exceeded; the upload was not stored."
            )
        if self.min_free_mb and not has_room(self.layout.root, self.min_free_mb * MIB, needed_bytes):
            raise InsufficientStorage(
                f"Less than {self.min_free_mb} MiB would be left free for upload temp files; the upload was "
                "not stored."
            )

    def check(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError):
            return False
        return True

    def download_url(self, key: str, *, filename: str, content_type: str) -> str | None:
        if self.settings.presign_ttl_seconds <= 0:  # the operator wants the app to stream it
            return None
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._key(key),
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
                "ResponseContentType": content_type,
            },
            ExpiresIn=self.settings.presign_ttl_seconds,
        )
