"""The production nginx config in front of the real server: TLS, headers, limits, uploads and downloads."""

import asyncio
import socket
import ssl
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.core.time import utcnow
from photochanger.models.job import Job
from tests.deploy.conftest import ACCEL_PREFIX, BOOTH_PASSWORD, Stack
from tests.support.ci import require_tool
from tests.support.jobs import add_job, jpeg_bytes
from tests.support.nginx import PortTaken, wait_for_port

SECURITY_HEADERS = {
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _assert_security_headers(headers: httpx.Headers) -> None:
    for name, value in SECURITY_HEADERS.items():
        # Exactly once: the app's own copies are hidden by the proxy.
        assert headers.get_list(name) == [value], name
    assert "camera=()" in headers["permissions-policy"]
    assert headers["server"] == "nginx"  # server_tokens off: no version


def _job(config: AppConfig, *, expires_in: timedelta) -> Job:
    async def make() -> Job:
        engine = create_engine(config.database_url, pool_size=1)
        try:
            return await add_job(
                create_sessionmaker(engine), config.media_root, expires_at=utcnow() + expires_in
            )
        finally:
            await engine.dispose()

    return asyncio.run(make())


def _curl(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """curl over HTTP/1.1, as the booth software speaks it (Expect: 100-continue is an HTTP/1.1 mechanism)."""
    curl = require_tool("curl", "sends the booth's upload with Expect: 100-continue")
    return subprocess.run(
        [curl, "--http1.1", "--silent", "--show-error", "--cacert", str(stack.cert), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_health_over_tls_with_security_headers_and_http_redirects(stack: Stack) -> None:
    with stack.client() as client:
        response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    _assert_security_headers(response.headers)
    plain = subprocess.run(
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            f"{stack.http_url}/r/abc?x=1",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    code, location = plain.stdout.split(" ", 1)
    assert code == "301"
    assert location.startswith("https://127.0.0.1/r/abc?x=1")


def test_upload_over_the_cap_is_refused_by_nginx_before_the_body_is_sent(
    stack: Stack, tmp_path: Path
) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\0" * (22 * 1024 * 1024))
    out = _curl(
        stack,
        "-o", str(tmp_path / "body"), "-w", "%{http_code} %{size_upload}",
        "-H", "Expect: 100-continue",
        "-F", f"fileToUpload=@{big};type=image/jpeg", "-F", f"password={BOOTH_PASSWORD}",
        f"{stack.https_url}/api/ingest/slot-001",
    )  # fmt: skip
    code, uploaded = out.stdout.split()
    assert code == "413", out.stderr
    # nginx answered the Expect before the 22 MiB body went out.
    assert int(float(uploaded)) < 1024 * 1024
    assert "413 Request Entity Too Large" in (tmp_path / "body").read_text()


def test_login_is_rate_limited_by_nginx(stack: Stack) -> None:
    with stack.client() as client:
        codes = [
            client.post("/api/login", json={"username": "nobody", "password": "wrong"}).status_code
            for _ in range(12)
        ]
        limited = client.post("/api/auth/login", json={"username": "nobody", "password": "wrong"})
    # rate 10r/m with burst 5, nodelay: the first six reach the app, later ones are refused at once.
    assert 429 not in codes[:6]
    assert codes[6:] == [429] * 6
    assert limited.status_code == 429
    _assert_security_headers(limited.headers)


def test_guest_page_and_410_through_nginx(stack: Stack) -> None:
    live = _job(stack.config, expires_in=timedelta(hours=1))
    expired = _job(stack.config, expires_in=timedelta(seconds=-1))
    with stack.client() as client:
        page = client.get(f"/r/{live.id}")
        gone_page = client.get(f"/r/{expired.id}")
        gone_file = client.get(f"/public/results/{expired.id}")
        preview = client.get(f"/public/results/{live.id}/preview")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    _assert_security_headers(page.headers)
    assert gone_page.status_code == 410
    assert "no longer available" in gone_page.text
    assert gone_file.status_code == 410
    assert gone_file.headers["content-type"] == "application/problem+json"
    assert preview.status_code == 200
    assert preview.headers["cache-control"].startswith("private, max-age=")


def test_download_is_sent_by_nginx_through_x_accel_redirect(stack: Stack) -> None:
    job = _job(stack.config, expires_in=timedelta(hours=1))
    assert job.result_path is not None
    on_disk = (stack.config.media_root / job.result_path).read_bytes()
    with stack.client() as client:
        response = client.get(f"/public/results/{job.id}")
        direct = client.get(f"{ACCEL_PREFIX}{job.result_path}")
    assert response.status_code == 200
    # The app answered with an empty body and X-Accel-Redirect; the bytes can only have come from nginx.
    assert response.content == on_disk
    assert "x-accel-redirect" not in response.headers
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"].startswith("attachment")
    _assert_security_headers(response.headers)
    assert direct.status_code == 404  # the internal location is not reachable from outside


def test_booth_upload_with_expect_100_continue_through_nginx(stack: Stack, tmp_path: Path) -> None:
    photo = tmp_path / "IMG_0001.JPG"
    photo.write_bytes(jpeg_bytes(1600, 1200))
    out = _curl(
        stack,
        "-o", str(tmp_path / "result"), "-D", str(tmp_path / "headers"), "-w", "%{http_code}",
        "-H", "Expect: 100-continue",
        "-F", f"fileToUpload=@{photo};type=image/jpeg", "-F", f"password={BOOTH_PASSWORD}",
        "-F", "name=DESKTOP-K968T3F", "-F", "version=3.30.2",
        f"{stack.https_url}/api/ingest/slot-001",
    )  # fmt: skip
    headers = (tmp_path / "headers").read_text()
    assert out.stdout == "200", f"{out.stderr}\n{headers}"
    assert "HTTP/1.1 100 Continue" in headers
    result = (tmp_path / "result").read_bytes()
    assert result.startswith(b"\xff\xd8\xff")
    job_id = next(
        line.split(":", 1)[1].strip() for line in headers.splitlines() if line.lower().startswith("x-job-id:")
    )
    with stack.client() as client:
        download = client.get(f"/public/results/{job_id}")
    assert download.status_code == 200
    assert download.content == result


def test_admin_login_form_posts_are_rate_limited_but_the_page_is_not(stack: Stack) -> None:
    with stack.client() as client:
        codes = [
            client.post("/admin/login", data={"username": "nobody", "password": "wrong"}).status_code
            for _ in range(12)
        ]
        page = client.get("/admin/login")
        api = client.post("/api/auth/login", json={"username": "nobody", "password": "wrong"})
    # One zone for every login path: 10r/m with burst 5, so the sixth POST is the last to reach the app.
    assert 429 not in codes[:6]
    assert codes[6:] == [429] * 6
    assert page.status_code == 200
    assert api.status_code == 429
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["code"] == "rate_limited"
    _assert_security_headers(api.headers)


def test_booth_guesses_meet_the_app_throttle_then_nginx(stack: Stack) -> None:
    """One client guessing the booth password as fast as it can: the app refuses after its 10 wrong tries
    (429 too_many_password_attempts, Retry-After), nginx after its burst (429 rate_limited)."""
    photo = jpeg_bytes(64, 48)
    with stack.client() as client:
        responses = [
            client.post(
                "/api/ingest/slot-001",
                data={"password": f"guess-{i}"},
                files={"fileToUpload": ("a.jpg", photo, "image/jpeg")},
            )
            for i in range(40)
        ]
    codes = [(r.status_code, r.json()["code"]) for r in responses]
    assert codes[:10] == [(401, "invalid_password")] * 10
    assert codes[10] == (429, "too_many_password_attempts")
    assert int(responses[10].headers["retry-after"]) > 0
    limited = [i for i, code in enumerate(codes) if code == (429, "rate_limited")]
    # burst 20 at 2r/s: nginx refuses from about the 22nd request of the flood and from then on.
    assert limited
    assert 20 <= limited[0] <= 30
    assert all(code[0] == 429 for code in codes[10:])


def test_metrics_are_denied_at_nginx_except_to_the_listed_scrapers(stack: Stack) -> None:
    with stack.client() as scraper:  # 127.0.0.1 is on the allow list
        allowed = scraper.get("/metrics")
    # Another loopback source address stands for any client not on the list; nginx itself is on 127.0.0.1.
    transport = httpx.HTTPTransport(
        local_address="127.0.0.2", verify=ssl.create_default_context(cafile=str(stack.cert))
    )
    with httpx.Client(base_url=stack.https_url, transport=transport) as outsider:
        paths = ("/metrics", "/metrics/", "//metrics", "/metrics?x=1")
        denied = [outsider.get(f"{stack.https_url}{path}") for path in paths]
    assert allowed.status_code == 200
    assert "photochanger_" in allowed.text
    assert [r.status_code for r in denied] == [403] * 4
    assert all("photochanger_" not in r.text for r in denied)


def test_waiting_for_nginx_refuses_a_port_another_process_listens_on(tmp_path: Path) -> None:
    # The stack's ports are free when chosen; a process binding one before nginx does must not pass for it.
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            with pytest.raises(PortTaken):
                wait_for_port(port, stand_in, tmp_path / "log", timeout=5)
        finally:
            stand_in.kill()
            stand_in.wait()
