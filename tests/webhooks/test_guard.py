"""The webhook SSRF guard in-process: every special-purpose range refused, the checked address is the one
connected to (rebinding), and TLS still names the host. Traffic only ever reaches 127.0.0.1 servers started
here; other addresses exist only as resolver answers."""

import ipaddress
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.config import AppConfig
from photochanger.webhooks.guard import WebhookTargetRefused, check_target, is_ordinary_global
from photochanger.webhooks.service import WebhookSender
from tests.fakes.server import FakeUpstream, Handler, Reply
from tests.support.jobs import add_job

# Written from the IANA registries themselves (iana-ipv4-special-registry, iana-ipv6-special-registry),
# not from the guard's table, plus the ranges the review found `ipaddress.is_global` lets through.
IANA_IPV4_SPECIAL = [
    "0.0.0.0/8",
    "0.0.0.0/32",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.0.0/29",
    "192.0.0.8/32",
    "192.0.0.9/32",
    "192.0.0.10/32",
    "192.0.0.170/32",
    "192.0.0.171/32",
    "192.0.2.0/24",
    "192.31.196.0/24",
    "192.52.193.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "192.175.48.0/24",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "224.0.0.0/4",  # multicast: its own registry
]
IANA_IPV6_SPECIAL = [
    "::1/128",
    "::/128",
    "::ffff:0:0/96",
    "64:ff9b::/96",
    "64:ff9b:1::/48",
    "100::/64",
    "100:0:0:1::/64",
    "2001::/23",
    "2001::/32",
    "2001:1::1/128",
    "2001:1::2/128",
    "2001:1::3/128",
    "2001:2::/48",
    "2001:3::/32",
    "2001:4:112::/48",
    "2001:10::/28",
    "2001:20::/28",
    "2001:30::/28",
    "2001:db8::/32",
    "2002::/16",
    "2620:4f:8000::/48",
    "3fff::/20",
    "5f00::/16",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",  # multicast
    "::/96",  # IPv4-compatible ::a.b.c.d (deprecated, RFC 4291)
    "fec0::/10",  # site local (deprecated, RFC 3879)
]
ORDINARY = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.63.255.255",  # just below shared address space
    "100.128.0.0",  # just above it
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.1",
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.254",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "2001:200::1",  # first address past 2001::/23
    "2620:4f:8001::1",
]


def _samples(network: str) -> list[str]:
    net = ipaddress.ip_network(network)
    picks = {net.network_address, net.broadcast_address, net.network_address + net.num_addresses // 2}
    return sorted(str(a) for a in picks)


SPECIAL_SAMPLES = sorted({a for net in IANA_IPV4_SPECIAL + IANA_IPV6_SPECIAL for a in _samples(net)})


def _answers(*addresses: str) -> Any:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize("address", SPECIAL_SAMPLES)
async def test_every_special_purpose_address_is_refused(address: str) -> None:
    assert not is_ordinary_global(ipaddress.ip_address(address))
    with pytest.raises(WebhookTargetRefused):
        await check_target("https://hooks.example.org/pc", allow=[], resolver=_answers(address))
    literal = f"[{address}]" if ":" in address else address
    with pytest.raises(WebhookTargetRefused):
        await check_target(f"http://{literal}/pc", allow=[])


@pytest.mark.parametrize(
    "address", ["::7f00:1", "::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe", "192.0.0.1", "fec0::1", "2002:7f00:1::"]
)
def test_the_gaps_of_is_global_are_closed(address: str) -> None:
    # Each of these names a loopback, metadata or internal target by another route.
    assert not is_ordinary_global(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ORDINARY)
async def test_ordinary_global_unicast_is_accepted(address: str) -> None:
    target = await check_target("https://hooks.example.org/pc", allow=[], resolver=_answers(address))
    assert target.addresses == (ipaddress.ip_address(address),)
    assert target.host == "hooks.example.org"


async def test_one_private_answer_among_public_ones_refuses_the_host() -> None:
    with pytest.raises(WebhookTargetRefused):
        await check_target("https://hooks.example.org/pc", allow=[], resolver=_answers("8.8.8.8", "10.0.0.7"))


async def test_an_unresolvable_or_empty_answer_is_refused() -> None:
    async def fails(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    for resolver in (fails, _answers()):
        with pytest.raises(WebhookTargetRefused):
            await check_target("https://hooks.example.org/pc", allow=[], resolver=resolver)


class _Hook(FakeUpstream):
    def routes(self) -> list[tuple[str, str, list[str], Handler]]:
        return [("main", "/hook", ["POST"], lambda _received: Reply(json={"ok": True}))]


@pytest.fixture
def hook() -> Iterator[_Hook]:
    with _Hook().running() as fake:
        yield fake


@pytest.fixture
def media_root(config: AppConfig) -> Path:
    return config.media_root


async def _job(sessionmaker: async_sessionmaker[AsyncSession], media_root: Path) -> str:
    return (await add_job(sessionmaker, media_root, expires_at=None, write_files=False)).id


async def test_a_rebinding_answer_after_the_check_is_never_connected_to(
    monkeypatch: pytest.MonkeyPatch,
    hook: _Hook,
    sessionmaker: async_sessionmaker[AsyncSession],
    media_root: Path,
) -> None:
    """A DNS server that answers the allowed address first, then an internal one (rebinding). The sender's
    default, system resolver is used; the autouse guard fails the test if anything reaches 10.0.0.7."""
    real_getaddrinfo = socket.getaddrinfo
    asked: list[str] = []

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.test":
            asked.append(host)
            answer = "127.0.0.1" if len(asked) == 1 else "10.0.0.7"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, int(port)))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = int(hook.url.rsplit(":", 1)[1])
    sender = WebhookSender(sessionmaker, allow=["127.0.0.1/32"], max_seconds=1)
    delivered = await sender.deliver(
        job_id=await _job(sessionmaker, media_root),
        slot_id="slot-001",
        url=f"http://rebind.test:{port}/hook",
        secret="whsec-0123456789abcdef",
        event={"type": "job.finished"},
    )
    assert delivered
    assert asked == ["rebind.test"]  # resolved once, by the guard; the connection went to its answer
    assert hook.count() == 1
    assert hook.last().headers["host"] == f"rebind.test:{port}"


@pytest.fixture(scope="module")
def tls_ca() -> trustme.CA:
    return trustme.CA()


def _serve_tls(ca: trustme.CA, tmp_path: Path, name: str) -> tuple[str, str]:
    leaf = ca.issue_cert(name)
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    key.write_bytes(leaf.private_key_pem.bytes())
    return str(cert), str(key)


@pytest.mark.parametrize(("served_name", "delivered"), [("hooks.test", True), ("other.test", False)])
async def test_tls_sni_and_certificate_still_name_the_host(
    tls_ca: trustme.CA,
    tmp_path: Path,
    sessionmaker: async_sessionmaker[AsyncSession],
    media_root: Path,
    served_name: str,
    delivered: bool,
) -> None:
    """Connecting to the pinned 127.0.0.1 must still verify a certificate for `hooks.test`: the right one
    is accepted (an IP-only check would refuse it), one for another name is refused."""
    client_ctx = ssl.create_default_context()
    tls_ca.configure_trust(client_ctx)
    with _Hook().running(tls=_serve_tls(tls_ca, tmp_path, served_name)) as server:
        port = int(server.url.rsplit(":", 1)[1])
        sender = WebhookSender(
            sessionmaker,
            allow=["127.0.0.1/32"],
            max_seconds=0.5,
            verify=client_ctx,
            resolver=_answers("127.0.0.1"),
        )
        ok = await sender.deliver(
            job_id=await _job(sessionmaker, media_root),
            slot_id="slot-001",
            url=f"https://hooks.test:{port}/hook",
            secret="whsec-0123456789abcdef",
            event={"type": "job.finished"},
        )
        assert ok is delivered
        assert server.count() == (1 if delivered else 0)
        if delivered:
            assert server.last().headers["host"] == f"hooks.test:{port}"
