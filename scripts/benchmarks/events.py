"""Item 5 (issue 22): the per-event ZIP streamed by the real server, with the server's peak RSS sampled while
the archive is read, for events of growing size (100 and 1,000 results by default).

The event is created through the API; its results are job rows inserted straight into the migrated schema
with result, preview and original files on disk (incompressible bytes of `result_kb`), as ingest lays them
out. The client reads the ZIP in chunks and keeps none of it, so the server's memory is what is measured.
"""

import asyncio
import os
import secrets
import time
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from scripts.benchmarks.common import (
    RssSampler,
    Table,
    admin_token,
    load_average,
    proc_status_kb,
    production_config,
    serve,
)

from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.core.time import utcnow
from photochanger.models import EventPhoto, Job

SLOT = "slot-001"


async def _add_results(database_url: str, media_root: Path, event_id: str, count: int, result_kb: int) -> int:
    """`count` done jobs of the event with their files; returns the bytes written."""
    now = utcnow()
    written = 0
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            for _ in range(count):
                job_id = secrets.token_urlsafe(16)
                rels = {
                    "result": f"results/{SLOT}/{job_id}.jpg",
                    "preview": f"previews/{SLOT}/{job_id}.jpg",
                    "original": f"originals/{SLOT}/{job_id}.jpg",
                }
                sizes = {"result": result_kb * 1024, "preview": 24 * 1024, "original": result_kb * 1024}
                for kind, rel in rels.items():
                    path = media_root / rel
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(os.urandom(sizes[kind]))
                    written += sizes[kind]
                session.add(
                    Job(
                        id=job_id, slot_id=SLOT, event_id=event_id, status="done", source="ingest",
                        provider="local", operation="passthrough", booth_meta={}, sha256="0" * 64,
                        input_size=sizes["original"], input_type="image/jpeg", mode="sync", created_at=now,
                        started_at=now, finished_at=now, duration_ms=100, result_path=rels["result"],
                        result_type="image/jpeg", result_size=sizes["result"],
                        result_expires_at=now + timedelta(hours=72), preview_path=rels["preview"],
                    )
                )  # fmt: skip
                await session.flush()
                session.add(EventPhoto(job_id=job_id, event_id=event_id, original_path=rels["original"]))
    finally:
        await engine.dispose()
    return written


def _read_zip(url: str, token: str, out: Path | None) -> tuple[int, float]:
    """Stream the ZIP, keeping at most one chunk (or writing it to `out` to check it); (bytes, seconds)."""
    started = time.perf_counter()
    total = 0
    with httpx.stream("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=600) as response:
        response.raise_for_status()
        sink = out.open("wb") if out is not None else None
        try:
            for chunk in response.iter_raw(256 * 1024):
                total += len(chunk)
                if sink is not None:
                    sink.write(chunk)
        finally:
            if sink is not None:
                sink.close()
    return total, time.perf_counter() - started


def run(
    database_url: str, workdir: Path, *, sizes: list[int], result_kb: int
) -> tuple[Table, dict[str, Any]]:
    config = production_config(database_url, workdir)
    raw: dict[str, Any] = {"cells": []}
    table = Table(
        f"5. Event ZIP streamed by the server ({result_kb} KiB per result; originals too in the second row)",
        ["results", "originals", "ZIP MB", "seconds", "MB/s", "RSS before MB", "RSS peak MB", "peak - before MB",
         "VmHWM MB"],
    )  # fmt: skip
    with serve(config, workdir / "server-events.log") as server:
        token = admin_token(server.base_url)
        headers = {"Authorization": f"Bearer {token}"}
        now = utcnow()
        created = httpx.post(
            f"{server.base_url}/api/events",
            json={
                "name": "Bench event",
                "starts_at": now.isoformat(),
                "ends_at": (now + timedelta(hours=8)).isoformat(),
                "slots": [{"slot_id": SLOT, "keep_originals": True}],
            },
            headers=headers,
            timeout=30,
        )
        created.raise_for_status()
        event_id = created.json()["id"]
        have = 0
        for size in sorted(sizes):
            asyncio.run(_add_results(database_url, config.media_root, event_id, size - have, result_kb))
            have = size
            for originals in (False, True):
                url = f"{server.base_url}/api/events/{event_id}/export.zip?originals={str(originals).lower()}"
                check = workdir / "check.zip" if size == min(sizes) else None
                load = load_average()
                before = proc_status_kb(server.proc.pid, "VmRSS") / 1024
                with RssSampler(server.proc.pid, interval=0.02) as rss:
                    total, seconds = _read_zip(url, token, check)
                if check is not None:
                    with zipfile.ZipFile(check) as archive:
                        entries = len(archive.namelist())
                    check.unlink()
                    expected = size * (2 if originals else 1)
                    if entries != expected:
                        raise AssertionError(f"the ZIP holds {entries} entries, not {expected}")
                mb = total / 1e6
                table.add(size, "yes" if originals else "no", mb, seconds, mb / seconds, before, rss.peak_mb,
                          rss.peak_mb - before, rss.hwm_kb / 1024)  # fmt: skip
                raw["cells"].append(
                    {"results": size, "originals": originals, "bytes": total, "seconds": seconds,
                     "rss_kb": rss.samples, "vm_hwm_kb": rss.hwm_kb, "load": load}
                )  # fmt: skip
                print(f"  event zip: {size} results, originals={originals}: {mb:.0f} MB in {seconds:.1f} s, "
                      f"RSS peak {rss.peak_mb:.0f} MB")  # fmt: skip
    table.notes.append(
        "RSS of the server process sampled every 20 ms while the client streams the archive and discards it; "
        "VmHWM is the process's high-water mark since it started (migrations, the admin login's argon2 hash "
        "and every ZIP before). "
        f"{load_average()}"
    )
    return table, raw
