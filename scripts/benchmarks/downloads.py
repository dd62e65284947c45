"""Item 3: a result download through nginx with X-Accel-Redirect, nginx serving the same file statically, and
the app serving it alone. nginx runs deploy/nginx/photochanger.conf as the deploy tests render it."""

import asyncio
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from scripts.benchmarks.common import BoothBody, Table, load_average, production_config, serve
from tests.support.images import noisy_jpeg
from tests.support.nginx import (
    ACCEL_PREFIX,
    main_conf,
    render_site_conf,
    self_signed,
    start_nginx,
    stop,
    wait_for_port,
)
from tests.support.server import free_port

STATIC_PREFIX = "/bench-static/"


def _tool(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/local/sbin")


def _wrk(url: str, *, seconds: float, connections: int) -> dict[str, Any]:
    wrk = _tool("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed")
    out = subprocess.run(
        [wrk, "-t", "1", "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--latency", url],
        check=True, capture_output=True, text=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "rps": rps,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "p50_ms": float(p50.group(1)) * scale[p50.group(2)] if p50 else float("nan"),
        "tool": "wrk",
        "output": out,
    }


async def _python_load(url: str, *, seconds: float, connections: int) -> dict[str, Any]:
    """Fallback when wrk is missing: `connections` keep-alive clients fetching in a loop."""
    done = bad = 0
    latencies: list[float] = []
    stop_at = time.monotonic() + seconds
    async with httpx.AsyncClient(verify=False, limits=httpx.Limits(max_connections=connections)) as client:  # noqa: S501 - our own test certificate

        async def worker() -> None:
            nonlocal done, bad
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                response = await client.get(url)
                latencies.append((time.perf_counter() - started) * 1000)
                done += 1
                bad += response.status_code != 200

        await asyncio.gather(*(worker() for _ in range(connections)))
    latencies.sort()
    return {
        "rps": done / seconds,
        "non_2xx": bad,
        "p50_ms": latencies[len(latencies) // 2] if latencies else float("nan"),
        "tool": "python",
    }


def _load(url: str, *, seconds: float, connections: int) -> dict[str, Any]:
    if _tool("wrk"):
        return _wrk(url, seconds=seconds, connections=connections)
    return asyncio.run(_python_load(url, seconds=seconds, connections=connections))


def _bench_site(text: str, media_root: Path) -> str:
    """The rendered site with two benchmark-only changes: the per-client public rate limit lifted (one
    client address would otherwise be held to 20 r/s) and a static location serving the media root."""
    limited = "rate=20r/s"
    if limited not in text:
        raise AssertionError(f"the site file no longer contains {limited!r}: update the benchmark")
    text = text.replace(limited, "rate=100000r/s")
    anchor = f"    location {ACCEL_PREFIX} {{"
    static = f"    location {STATIC_PREFIX} {{\n        alias {media_root.resolve()}/;\n    }}\n\n"
    return text.replace(anchor, static + anchor)


def run(
    database_url: str, workdir: Path, *, size_mb: float, seconds: float, connections: int
) -> tuple[Table, dict[str, Any]]:
    config = production_config(database_url, workdir)
    body = BoothBody(noisy_jpeg(size_mb * 1.2))  # passthrough re-encodes: the result lands near size_mb
    raw: dict[str, Any] = {}
    with serve(config, workdir / "server-direct.log") as server:
        response = httpx.post(
            f"{server.base_url}/api/ingest/slot-001",
            content=body.for_shot(1),
            headers={"Content-Type": body.header},
            timeout=60,
        )
        response.raise_for_status()
        job_id = response.headers["x-job-id"]
        size = len(response.content)
        path = f"/public/results/{job_id}"
        load = load_average()
        raw["app"] = _load(f"{server.base_url}{path}", seconds=seconds, connections=connections)
        raw["app"]["load"] = load
    relpath = next((config.media_root / "results").rglob(f"{job_id}.*")).relative_to(config.media_root)

    nginx, openssl = _tool("nginx"), _tool("openssl")
    if nginx is None or openssl is None:
        table = Table("3. Downloads", ["note"])
        table.add("nginx or openssl is not installed: only the app was measured")
        table.add(f"app alone: {raw['app']['rps']:.0f} r/s")
        return table, raw
    ngx = workdir / "nginx"
    ngx.mkdir()
    cert, key = self_signed(openssl, ngx)
    http_port, https_port, app_port = free_port(), free_port(), free_port()
    site = ngx / "photochanger.conf"
    site.write_text(
        _bench_site(
            render_site_conf(
                http_port=http_port, https_port=https_port, app_port=app_port,
                media_root=config.media_root, cert=cert, key=key, log_dir=ngx,
            ),
            config.media_root,
        ),
        encoding="utf-8",
    )  # fmt: skip
    main = ngx / "nginx.conf"
    main.write_text(main_conf(ngx, site, worker_connections=1024), encoding="utf-8")
    with serve(
        config, workdir / "server-accel.log", port=app_port, PHOTOCHANGER_ACCEL_REDIRECT_PREFIX=ACCEL_PREFIX
    ):
        proxy = start_nginx(nginx, ngx, main, ngx / "stderr.log")
        try:
            wait_for_port(https_port, proxy, ngx / "stderr.log")
            base = f"https://127.0.0.1:{https_port}"
            check = httpx.get(f"{base}{path}", verify=False)  # noqa: S501 - our own test certificate
            if check.status_code != 200 or len(check.content) != size:
                raise RuntimeError(f"X-Accel download failed: {check.status_code} {len(check.content)} bytes")
            raw["static"] = _load(f"{base}{STATIC_PREFIX}{relpath.as_posix()}", seconds=seconds,
                                  connections=connections)  # fmt: skip
            raw["static"]["load"] = load_average()
            raw["accel"] = _load(f"{base}{path}", seconds=seconds, connections=connections)
            raw["accel"]["load"] = load_average()
        finally:
            stop(proxy)
    table = Table(
        f"3. Downloads: one {size / 1e6:.1f} MB result, {connections} keep-alive connections, "
        f"{seconds:g} s each ({raw['app']['tool']})",
        ["path", "req/s", "p50 ms", "non-2xx", "vs nginx static"],
    )
    static_rps = raw["static"]["rps"]
    for label, key_ in (
        ("nginx static file (HTTPS)", "static"),
        ("nginx + app X-Accel-Redirect (HTTPS)", "accel"),
        ("app alone, FileResponse (HTTP)", "app"),
    ):
        item = raw[key_]
        table.add(label, item["rps"], item["p50_ms"], item["non_2xx"], f"{item['rps'] / static_rps:.2f}")
    table.notes.append(
        "nginx: deploy/nginx/photochanger.conf rendered as in tests/deploy, 1 worker, public limit_req lifted "
        f"for the run; {raw['accel']['load']}"
    )
    for item in raw.values():
        item.pop("output", None)
    return table, raw
