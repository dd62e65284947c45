"""What every benchmark shares: a real server on a throwaway database, the booth's request, numbers, tables."""

import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import update
from sqlalchemy.engine import make_url
from tests.ingest.conftest import booth_fields
from tests.support.server import ServerProcess, config_env, running_server

from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker, is_sqlite
from photochanger.models import Slot
from photochanger.settings import service as settings_service

REPO = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("PG_TEST_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
INGEST_PASSWORD = "bench-booth-password-2026"  # noqa: S105 - a throwaway benchmark database
ADMIN_USER = "bench-admin"
ADMIN_PASSWORD = "bench admin password 2026"  # noqa: S105


# --- numbers -----------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def load_average() -> str:
    """`uptime`'s load averages, printed next to every measurement (other processes share the cores)."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def fmt(value: float | int | str | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value != value:  # NaN
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: float | int | str | None, digits: int = 1) -> None:
        self.rows.append([fmt(c, digits) for c in cells])

    def render(self) -> str:
        widths = [max(len(h), *(len(r[i]) for r in self.rows)) for i, h in enumerate(self.headers)]
        line = "  ".join("-" * w for w in widths)
        out = [self.title, "  ".join(h.rjust(w) for h, w in zip(self.headers, widths, strict=True)), line]
        out += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in self.rows]
        out += [f"  {note}" for note in self.notes]
        return "\n".join(out)

    def as_json(self) -> dict[str, Any]:
        return {"title": self.title, "headers": self.headers, "rows": self.rows, "notes": self.notes}


# --- memory ------------------------------------------------------------------------------------------
def proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


class RssSampler:
    """Samples VmRSS of `pid` every `interval` seconds in a thread; `peak_mb`, and VmHWM at `stop()`."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[int] = []
        self.hwm_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(proc_status_kb(self.pid, "VmRSS"))
            except OSError:
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.hwm_kb = proc_status_kb(self.pid, "VmHWM")

    @property
    def peak_mb(self) -> float:
        return max(self.samples, default=0) / 1024

    @property
    def start_mb(self) -> float:
        return (self.samples[0] if self.samples else 0) / 1024


# --- databases ---------------------------------------------------------------------------------------
def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    return _asyncpg_dsn(url)


async def _pg(statement: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(PG_URL), timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def postgres_available() -> bool:
    probe = subprocess.run([sys.executable, str(REPO / "scripts" / "pg_ready.py"), PG_URL], check=False)
    return probe.returncode == 0


@contextmanager
def scratch_database(backend: str, workdir: Path) -> Iterator[str]:
    """An empty database for one benchmark (the server migrates it on start), dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'bench.sqlite'}"
        return
    name = f"pcbench_{secrets.token_hex(4)}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


METRICS_TOKEN = secrets.token_urlsafe(36)


# --- the server --------------------------------------------------------------------------------------
def production_config(database_url: str, workdir: Path, **overrides: Any) -> AppConfig:
    """`PHOTOCHANGER_ENV=production` with generated 48-character JWT secret, secret key and metrics token
    (`METRICS_TOKEN`), everything under `workdir`."""
    values: dict[str, Any] = {
        "env": "production",
        "jwt_secret": secrets.token_urlsafe(36),  # 48 characters
        "secret_key": secrets.token_urlsafe(36),
        "metrics_token": METRICS_TOKEN,
        "database_url": database_url,
        "media_root": workdir / "media",
        "var_dir": workdir / "var",
        "bootstrap_admin_username": ADMIN_USER,
        "bootstrap_admin_password": ADMIN_PASSWORD,
        "bootstrap_ingest_password": INGEST_PASSWORD,
        "min_free_disk_mb": 200,
    }
    values.update(overrides)
    return AppConfig(**values)


@contextmanager
def serve(
    config: AppConfig, log: Path, *, port: int | None = None, workers: int = 1, **env: str
) -> Iterator[ServerProcess]:
    """`python -m photochanger serve` (migrating first) with `config` as its environment."""
    with running_server(
        config_env(config, **env), log, port=port, migrate=True, startup_timeout=90, workers=workers
    ) as server:
        yield server


async def configure(
    database_url: str,
    *,
    runtime: dict[str, Any] | None = None,
    slots: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Change runtime settings and slot rows the way an admin would (the server reads them per request)."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            if runtime:
                await settings_service.update(session, runtime, actor="bench")
            for slot_id, values in (slots or {}).items():
                await session.execute(update(Slot).where(Slot.id == slot_id).values(**values))
    finally:
        await engine.dispose()


def admin_token(base_url: str) -> str:
    response = httpx.post(
        f"{base_url}/api/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD}, timeout=30
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


# --- the booth's request -----------------------------------------------------------------------------
@dataclass(frozen=True)
class BoothBody:
    """A multipart body exactly as Breeze sends it; `for_shot(n)` varies the shot id so no upload joins
    an earlier one through the idempotency key (the booth's id + hash)."""

    image: bytes
    boundary: str = "----PhotoChangerBench7MA4YWxkTrZu0gW"
    filename: str = "IMG_0003.JPG"
    content_type: str = "image/jpeg"

    @property
    def header(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def head(self, n: int, *, password: str = INGEST_PASSWORD) -> bytes:
        """Everything before the photo's bytes: the booth's text fields, then the file part's headers."""
        fields = booth_fields(password, id=f"BENCH{n:08d}_{secrets.token_hex(4)}.")
        out = bytearray()
        for name, value in fields.items():
            out += f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            out += value.encode() + b"\r\n"
        out += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="fileToUpload"; '
            f'filename="{self.filename}"\r\nContent-Type: {self.content_type}\r\n\r\n'
        ).encode()
        return bytes(out)

    @property
    def tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode()

    def for_shot(self, n: int, *, password: str = INGEST_PASSWORD) -> bytes:
        return self.head(n, password=password) + self.image + self.tail


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")


def free_disk_mb(path: Path) -> float:
    return shutil.disk_usage(path).free / 1024 / 1024


def is_sqlite_url(url: str) -> bool:
    return is_sqlite(url)


def now_s() -> float:
    return time.monotonic()
