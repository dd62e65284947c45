"""Figures for issue 15 against the real server (production settings, SQLite scratch database):
wrong booth passwords one client gets evaluated before its first 429, admin login latency while one client
guesses booth passwords at 25 a second, and server RSS while a 300 MB URL-encoded form is posted to
`/admin/login`. `--pythonpath` serves another source tree (e.g. an export of the commit before the fix), so
the same load measures both. Prints JSON; passes or fails nothing.

    .venv/bin/python scripts/benchmarks/hostile.py [--pythonpath /tmp/old/src]
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.benchmarks.common import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    RssSampler,
    percentile,
    production_config,
    serve,
)
from tests.support.images import jpeg

PHOTO = jpeg(64, 48)
GUESS_RATE = 25.0  # per second: what one client reached before the fix (issue 15, item 3)
FORM_MB = 300


def _guess(client: httpx.AsyncClient, i: int) -> Any:
    return client.post(
        "/api/ingest/slot-001",
        data={"password": f"guess-{i}"},
        files={"fileToUpload": ("IMG_0001.JPG", PHOTO, "image/jpeg")},
    )


async def wrong_before_first_429(base: str, tries: int = 300) -> int | None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for i in range(tries):
            if (await _guess(client, i)).status_code == 429:
                return i
    return None


async def admin_latency(base: str, seconds: float, *, guess_rate: float) -> dict[str, Any]:
    """Admin logins (every 0.1 s, from another loopback address) while one client guesses at `guess_rate`."""
    answers: list[int] = []
    latencies: list[float] = []
    admin_transport = httpx.AsyncHTTPTransport(local_address="127.0.0.200")
    async with (
        httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=200)) as guesser,
        httpx.AsyncClient(base_url=base, timeout=60, transport=admin_transport) as admin,
    ):

        async def one(i: int) -> None:
            answers.append((await _guess(guesser, i)).status_code)

        async def logins() -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                started = time.perf_counter()
                response = await admin.post(
                    "/api/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD}
                )
                latencies.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                await asyncio.sleep(0.1)

        tasks: list[asyncio.Task[None]] = []
        admin_task = asyncio.create_task(logins())
        start = time.monotonic()
        while guess_rate and time.monotonic() - start < seconds:
            tasks.append(asyncio.create_task(one(len(tasks))))
            await asyncio.sleep(1 / guess_rate)
        await admin_task
        await asyncio.gather(*tasks)
    return {
        "admin_login_ms": {
            "n": len(latencies),
            "p50": round(percentile(latencies, 50), 1),
            "p95": round(percentile(latencies, 95), 1),
            "max": round(max(latencies), 1),
        },
        "guess_answers": dict(Counter(answers)),
    }


def _form() -> Iterator[bytes]:
    """Fields of just under 1 MB each (under Starlette's per-field and field-count limits)."""
    yield b"username=admin&password=x"
    for i in range(FORM_MB):
        yield b"&f%d=" % i + b"a" * 1_000_000


def oversized_login_form(base: str, pid: int) -> dict[str, Any]:
    with RssSampler(pid) as rss:
        time.sleep(0.3)
        started = time.monotonic()
        try:
            status: int | str = httpx.post(
                f"{base}/admin/login",
                content=_form(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=300,
            ).status_code
        except httpx.HTTPError as exc:  # the server may close the connection on a refused body
            status = type(exc).__name__
        elapsed = time.monotonic() - started
        time.sleep(0.5)
    return {
        "status": status,
        "seconds": round(elapsed, 2),
        "rss_start_mb": round(rss.start_mb),
        "rss_peak_mb": round(rss.peak_mb),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pythonpath", help="serve the photochanger package found here instead")
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="photochanger-hostile-"))
    config = production_config(f"sqlite+aiosqlite:///{work}/db.sqlite", work)
    env = {"PYTHONPATH": args.pythonpath} if args.pythonpath else {}
    with serve(config, work / "server.log", **env) as server:
        base = server.base_url
        figures: dict[str, Any] = {
            "admin_login_alone": asyncio.run(admin_latency(base, args.seconds / 2, guess_rate=0)),
            "admin_login_during_guesses": asyncio.run(
                admin_latency(base, args.seconds, guess_rate=GUESS_RATE)
            ),
            "oversized_login_form": oversized_login_form(base, server.proc.pid),
        }
    # Last, on a fresh server: the earlier guesses came from the same address.
    with serve(config, work / "server2.log", **env) as server:
        figures["wrong_booth_passwords_before_first_429"] = asyncio.run(
            wrong_before_first_429(server.base_url)
        )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
