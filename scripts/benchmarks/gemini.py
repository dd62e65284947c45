"""Issue 19: a Gemini slot beside a passthrough slot, the fake Gemini answering at once behind a 50 Mbit/s
uplink; latency, server CPU per upload and bytes sent upstream per shot, per photo and concurrency."""

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image
from scripts.benchmarks.common import (
    REPO,
    BoothBody,
    RssSampler,
    Table,
    configure,
    load_average,
    percentile,
    production_config,
    serve,
)
from scripts.benchmarks.ingest import drive

PASSTHROUGH_SLOT = "slot-001"
GEMINI_SLOT = "slot-002"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def camera_jpeg(width: int, height: int, *, quality: int = 92) -> bytes:
    """A photo-like JPEG: smooth colour fields with sensor-like grain (about 0.45 bytes a pixel at q92, so
    6000 x 4000 is a 11-12 MB camera file), no metadata."""
    small = (max(1, width // 16), max(1, height // 16))
    base = Image.frombytes("RGB", small, os.urandom(small[0] * small[1] * 3))
    base = base.resize((width, height), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((width, height), 24.0).convert("RGB")
    buffer = io.BytesIO()
    Image.blend(base, grain, 0.35).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextmanager
def _process(args: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", *args], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        yield proc
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=20)


def _line(proc: subprocess.Popen[bytes]) -> str:
    if proc.stdout is None:
        raise RuntimeError("no stdout")
    return proc.stdout.readline().decode().strip()


def _upstream_bytes(proxy: subprocess.Popen[bytes]) -> int:
    if proxy.stdin is None:
        raise RuntimeError("no stdin")
    proxy.stdin.write(b"\n")
    proxy.stdin.flush()
    return int(_line(proxy))


def run(
    database_url: str,
    workdir: Path,
    *,
    photos: list[tuple[int, int]],
    concurrencies: list[int],
    requests: int,
    uplink_mbit: float,
) -> tuple[Table, dict[str, Any]]:
    table = Table(
        f"3. Gemini slot vs passthrough slot: fake Gemini answering at once behind a {uplink_mbit:g} Mbit/s "
        "uplink",
        ["photo", "MB", "conc", "n", "pass p50", "gemini p50", "gemini/pass", "pass CPU ms", "gemini CPU ms",
         "upstream MB/shot", "RSS peak MB", "statuses"],
    )  # fmt: skip
    raw: dict[str, Any] = {"cells": []}
    bodies = {size: BoothBody(camera_jpeg(*size)) for size in photos}
    with (
        _process(["scripts.benchmarks.fake_provider", "0", "1"]) as fake,
        _process(
            ["scripts.benchmarks.throttle", _line(fake).rsplit(":", 1)[1].strip("/"), str(uplink_mbit)]
        ) as proxy,
    ):
        proxy_url = f"http://127.0.0.1:{_line(proxy)}"
        config = production_config(
            database_url, workdir, gemini_api_key="test-key-0123456789", gemini_base_url=proxy_url
        )
        with serve(config, workdir / "server-gemini.log") as server:
            top = max(concurrencies)
            limits = {"slot_concurrency": top, "provider_concurrency": top, "global_concurrency": top}
            gemini = {"provider": "gemini", "operation": "edit", "settings": {"params": {"prompt": "pop"}}}
            asyncio.run(configure(database_url, runtime=limits, slots={GEMINI_SLOT: gemini}))
            pid = server.proc.pid
            urls = {s: f"{server.base_url}/api/ingest/{s}" for s in (PASSTHROUGH_SLOT, GEMINI_SLOT)}
            for size, body in bodies.items():
                for conc in concurrencies:
                    n = max(requests, 2 * conc)
                    cells: dict[str, Any] = {}
                    # Warm-up, then the two cells back to back, so both see the same machine.
                    for slot in urls.values():
                        asyncio.run(drive(slot, body, requests=conc, concurrency=conc))
                    load = load_average()
                    for name, slot in (("pass", PASSTHROUGH_SLOT), ("gemini", GEMINI_SLOT)):
                        cpu, sent = cpu_seconds(pid), _upstream_bytes(proxy)
                        with RssSampler(pid) as rss:
                            cell = asyncio.run(drive(urls[slot], body, requests=n, concurrency=conc))
                        cells[name] = {
                            "cell": cell,
                            "cpu_ms": (cpu_seconds(pid) - cpu) * 1000 / n,
                            "upstream": (_upstream_bytes(proxy) - sent) / n,
                            "rss_mb": rss.peak_mb,
                        }
                    p, g = cells["pass"], cells["gemini"]
                    p50, g50 = percentile(p["cell"].latencies_ms, 50), percentile(g["cell"].latencies_ms, 50)
                    statuses = {k: dict(v["cell"].statuses) for k, v in cells.items()}
                    table.add(
                        f"{size[0]}x{size[1]}", f"{len(body.image) / 1e6:.2f}", conc, n, p50, g50,
                        f"{g50 / p50:.2f}", p["cpu_ms"], g["cpu_ms"], g["upstream"] / 1e6,
                        max(p["rss_mb"], g["rss_mb"]),
                        " ".join(f"{k}:{v}" for k, v in statuses.items()),
                    )  # fmt: skip
                    raw["cells"].append(
                        {
                            "width": size[0], "height": size[1], "size_bytes": len(body.image),
                            "concurrency": conc, "requests": n, "load": load, "statuses": statuses,
                            **{f"{k}_ms": v["cell"].latencies_ms for k, v in cells.items()},
                            **{f"{k}_cpu_ms_per_upload": v["cpu_ms"] for k, v in cells.items()},
                            "gemini_upstream_bytes_per_shot": g["upstream"],
                            "rss_peak_mb": {k: v["rss_mb"] for k, v in cells.items()},
                        }
                    )  # fmt: skip
                    print(
                        f"  gemini {size[0]}x{size[1]} x{conc}: pass p50 {p50:.0f} ms / {p['cpu_ms']:.0f} ms CPU, "
                        f"gemini p50 {g50:.0f} ms / {g['cpu_ms']:.0f} ms CPU, {g['upstream'] / 1e6:.2f} MB up ({load})"
                    )
    table.notes.append(
        "ms = client-side latency; CPU = the server process's user+system CPU over the cell divided by its "
        "uploads (the figure least sensitive to other load); upstream = bytes the server sent through the "
        "throttled link per Gemini shot (request body and headers)"
    )
    return table, raw
