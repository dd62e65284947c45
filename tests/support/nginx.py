"""Run the real nginx with deploy/nginx/photochanger.conf: only ports, paths and the certificate templated.

Shared by the deploy tests (tests/deploy) and the download benchmark (scripts/benchmarks/downloads.py).
"""

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.support.server import free_port

REPO = Path(__file__).resolve().parents[2]
SITE_CONF = REPO / "deploy" / "nginx" / "photochanger.conf"
ACCEL_PREFIX = "/_protected/"


UPSTREAM_SERVERS = (
    "    server 127.0.0.1:8001 max_fails=1 fail_timeout=10s;\n"
    "    server 127.0.0.1:8002 max_fails=1 fail_timeout=10s;\n"
)


def render_site_conf(
    *,
    http_port: int,
    https_port: int,
    app_port: int | None = None,
    app_ports: Sequence[int] = (),
    media_root: Path,
    cert: Path,
    key: Path,
    log_dir: Path,
) -> str:
    """The production file with only its ports, paths and certificate replaced; each literal must be there.
    The upstream gets `app_port` alone or every one of `app_ports` (the file's own options kept)."""
    text = SITE_CONF.read_text(encoding="utf-8")
    ports = [app_port] if app_port is not None else list(app_ports)
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n" for p in ports)
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        UPSTREAM_SERVERS: servers,
        "/etc/letsencrypt/live/photos.example.com/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/photos.example.com/privkey.pem": str(key),
        "/var/log/nginx/": f"{log_dir}/",
        "alias /var/lib/photochanger/media/;": f"alias {media_root.resolve()}/;",
    }
    for old, new in replacements.items():
        if old not in text:
            raise AssertionError(f"{SITE_CONF.name} no longer contains {old!r}: update the template")
        text = text.replace(old, new)
    return text


def main_conf(workdir: Path, site: Path, *, worker_connections: int = 256) -> str:
    """A minimal nginx.conf around the site file, every path inside `workdir`."""
    user = "user root root;\n" if os.geteuid() == 0 else ""  # workers must read the caller's private tmp dir
    temp = "\n".join(
        f"    {kind}_temp_path {workdir / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 1;
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} warn;
events {{ worker_connections {worker_connections}; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
{temp}
    include {site};
}}
"""


def self_signed(openssl: str, workdir: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 and localhost: (cert, key)."""
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def start_nginx(nginx: str, workdir: Path, main: Path, log: Path) -> subprocess.Popen[bytes]:
    """nginx in the foreground with `main` as its configuration; stdout and stderr go to `log`."""
    with log.open("wb") as err:
        return subprocess.Popen(
            [
                nginx,
                "-p",
                str(workdir),
                "-c",
                str(main),
                "-e",
                str(workdir / "error.log"),
                "-g",
                "daemon off;",
            ],
            stdout=err,
            stderr=subprocess.STDOUT,
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


class PortTaken(RuntimeError):
    """Another process listens on a port nginx was given (a free port taken between choosing and binding)."""


def _listening_inodes(port: int) -> set[int]:
    """Socket inodes listening on 127.0.0.1:`port` (IPv4), from /proc/net/tcp."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, state, inode = fields[1], fields[3], int(fields[9])
        if state == "0A" and int(address.rsplit(":", 1)[1], 16) == port:
            inodes.add(inode)
    return inodes


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 15) -> None:
    """Until nginx (`proc`, its master process) itself listens on `port`. A connection alone could reach
    another process holding the port; that raises `PortTaken` (nginx would fail to bind it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        listening = _listening_inodes(port)
        if listening:
            if listening & _socket_inodes(proc.pid):
                return
            raise PortTaken(f"another process listens on {port}")
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on {port}:\n{log.read_text(errors='replace')}")


def start_on_free_ports(
    nginx: str, workdir: Path, site_conf: Callable[[int, int], str], *, attempts: int = 3
) -> tuple[subprocess.Popen[bytes], int, int]:
    """nginx with the site `site_conf(http_port, https_port)` renders, on two free ports, listening on both
    before this returns: (process, http_port, https_port). Ports another process takes first are given up
    for new ones, up to `attempts` times."""
    log = workdir / "stderr.log"
    for attempt in range(attempts):
        http_port, https_port = free_port(), free_port()
        site = workdir / "photochanger.conf"
        site.write_text(site_conf(http_port, https_port), encoding="utf-8")
        main = workdir / "nginx.conf"
        main.write_text(main_conf(workdir, site), encoding="utf-8")
        proc = start_nginx(nginx, workdir, main, log)
        try:
            wait_for_port(https_port, proc, log)
            wait_for_port(http_port, proc, log)
        except PortTaken:
            stop(proc)
            if attempt == attempts - 1:
                raise
            continue
        except BaseException:
            stop(proc)
            raise
        return proc, http_port, https_port
    raise AssertionError("unreachable")
