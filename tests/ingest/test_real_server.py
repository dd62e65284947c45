"""The booth's request replayed field for field with curl against the real server over a real socket."""

import asyncio
import hashlib
import socket
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.models import Job
from photochanger.settings import service as settings_service
from tests.ingest.conftest import INGEST_PASSWORD, booth_fields
from tests.support import images
from tests.support.server import config_env, running_server


async def _set_password(config: AppConfig) -> None:
    engine = create_engine(config.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await settings_service.set_ingest_password(session, INGEST_PASSWORD, actor="test")
    finally:
        await engine.dispose()


async def _jobs(config: AppConfig) -> list[Job]:
    engine = create_engine(config.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return list((await session.execute(select(Job))).scalars())
    finally:
        await engine.dispose()


def _curl(url: str, photo: Path, out: Path, password: str) -> subprocess.CompletedProcess[str]:
    args = [
        "curl",
        "-sS",
        "-v",
        "--max-time",
        "60",
        "-H",
        "Expect: 100-continue",
        "-o",
        str(out),
        "-w",
        "%{http_code}",
    ]
    args += ["-F", f"fileToUpload=@{photo};type=image/jpeg;filename=IMG_0003.JPG"]
    for name, value in booth_fields(password).items():
        args += ["--form-string", f"{name}={value}"]
    args.append(url)
    return subprocess.run(args, capture_output=True, text=True, timeout=90, check=False)


@pytest.mark.slow
async def test_breeze_upload_over_a_real_socket_with_expect_100_continue(
    config: AppConfig, tmp_path: Path
) -> None:
    await _set_password(config)
    photo = tmp_path / "IMG_0003.JPG"
    photo.write_bytes(images.noisy_jpeg(2.5))
    with running_server(config_env(config), tmp_path / "server.log") as server:
        ok = _curl(f"{server.base_url}/api/ingest/slot-001", photo, tmp_path / "out.jpg", INGEST_PASSWORD)
        again = _curl(
            f"{server.base_url}/api/ingest/slot-001", photo, tmp_path / "again.jpg", INGEST_PASSWORD
        )
        wrong = _curl(f"{server.base_url}/api/ingest/slot-001", photo, tmp_path / "err.json", "nope")
        log = server.log()

    assert ok.stdout == "200", ok.stderr
    assert "HTTP/1.1 100 Continue" in ok.stderr
    assert "content-type: image/jpeg" in ok.stderr.lower()
    assert "x-job-id:" in ok.stderr.lower()
    # A clean photo is its own result: sent back from the stored file, byte for byte, and so is its replay.
    assert (tmp_path / "out.jpg").read_bytes() == photo.read_bytes()
    assert again.stdout == "200", again.stderr
    assert "x-photochanger-replayed: true" in again.stderr.lower()
    assert (tmp_path / "again.jpg").read_bytes() == photo.read_bytes()

    assert wrong.stdout == "401"
    assert '"code":"invalid_password"' in (tmp_path / "err.json").read_text()

    [job] = await _jobs(config)
    assert job.status == "done"
    assert job.sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert job.booth_meta["profile"] == r"C:\Users\Acer\Documents\PhotoboothImages\setup.xml"
    assert INGEST_PASSWORD not in log
    assert not list((config.media_root / "temp").glob("*"))


@pytest.mark.slow
async def test_client_vanishing_mid_upload_leaves_no_file_and_no_job(
    config: AppConfig, tmp_path: Path
) -> None:
    await _set_password(config)
    photo = images.noisy_jpeg(1.0)
    boundary = "cut-here"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="password"\r\n\r\n{INGEST_PASSWORD}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="fileToUpload"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    declared = len(head) + len(photo) + len(f"\r\n--{boundary}--\r\n")
    with running_server(config_env(config), tmp_path / "server.log") as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                (
                    "POST /api/ingest/slot-001 HTTP/1.1\r\nHost: booth\r\n"
                    f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {declared}\r\n\r\n"
                ).encode()
                + head
                + photo[: len(photo) // 2]
            )
            await asyncio.sleep(0.5)
        # Give the server a moment to notice the disconnect and clean up.
        deadline = time.monotonic() + 5
        temp = config.media_root / "temp"
        while time.monotonic() < deadline and temp.exists() and any(temp.iterdir()):  # noqa: ASYNC110 - polls the disk
            await asyncio.sleep(0.1)
        leftover = sorted(p.name for p in temp.iterdir()) if temp.exists() else []
    assert leftover == []
    assert await _jobs(config) == []
