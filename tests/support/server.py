"""Run the real server (`python -m photochanger serve`) in a subprocess on a free loopback port."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from pydantic import SecretStr

from photochanger.config import AppConfig


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config_env(config: AppConfig, **extra: str) -> dict[str, str]:
    """Environment variables that reproduce `config` in a child process (secrets included)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTOCHANGER_")}
    dumped = config.model_dump(mode="json")
    for name, value in dumped.items():
        raw = getattr(config, name)
        if raw is None:
            continue
        if isinstance(raw, SecretStr):
            value = raw.get_secret_value()
        env[f"PHOTOCHANGER_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    env.update(extra)
    return env


class ServerProcess:
    def __init__(self, proc: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
        self.proc = proc
        self.base_url = base_url
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def running_server(
    env: dict[str, str],
    log_path: Path,
    *,
    port: int | None = None,
    migrate: bool = False,
    startup_timeout: float = 30,
    workers: int = 1,
) -> Iterator[ServerProcess]:
    """Start the server, wait until `/health/live` answers, yield it, then stop it (SIGTERM, then SIGKILL)."""
    port = port or free_port()
    args = [sys.executable, "-m", "photochanger", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers != 1:
        args += ["--workers", str(workers)]
    if not migrate:
        args.append("--no-migrate")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = ServerProcess(proc, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log()}")
            try:
                if httpx.get(f"{server.base_url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start in {startup_timeout}s:\n{server.log()}")
            time.sleep(0.1)
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
