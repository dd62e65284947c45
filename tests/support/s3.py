"""A real S3-protocol server for the tests: moto's server mode (`python -m moto.server`) in a subprocess on a
free loopback port. Nothing of ours is mocked: the app talks S3 over HTTP to it through boto3.

Its request log (werkzeug's access log) goes to a file, so a test can count the requests the server saw.
"""

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
from pydantic import SecretStr

from tests.support.server import free_port

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

ACCESS_KEY = "photochanger-test"
SECRET_KEY = "photochanger-test-secret"
REGION = "us-east-1"


class MotoServer:
    def __init__(self, proc: subprocess.Popen[bytes], endpoint: str, log_path: Path) -> None:
        self.proc = proc
        self.endpoint = endpoint
        self.log_path = log_path

    def client(self) -> "S3Client":
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self) -> str:
        name = f"pc-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        paginator = self.client().get_paginator("list_objects_v2")
        return sorted(
            item["Key"]
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def requests(self, bucket: str, method: str, query: str) -> int:
        """How many `method /bucket?query...` requests the server has logged so far."""
        return sum(
            1
            for line in self.log().splitlines()
            if f'"{method} /{bucket}?' in line and query in line.split(f"/{bucket}?", 1)[1].split(" ", 1)[0]
        )

    def config_overrides(self, bucket: str, **extra: Any) -> dict[str, Any]:
        """`AppConfig` values that put the media in `bucket` on this server."""
        return {
            "storage_backend": "s3",
            "s3_bucket": bucket,
            "s3_endpoint_url": self.endpoint,
            "s3_region": REGION,
            "s3_access_key_id": SecretStr(ACCESS_KEY),
            "s3_secret_access_key": SecretStr(SECRET_KEY),
            **extra,
        }


@contextmanager
def running_moto(log_path: Path, *, startup_timeout: float = 30) -> Iterator[MotoServer]:
    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = MotoServer(proc, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"moto exited with {proc.returncode}:\n{server.log()}")
            try:
                if httpx.get(f"{server.endpoint}/moto-api/", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto did not start in {startup_timeout}s:\n{server.log()}")
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
