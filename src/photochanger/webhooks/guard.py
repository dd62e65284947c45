"""SSRF guard: webhook targets must be http(s) and resolve only to ordinary global unicast addresses, unless
allow-listed; the sender then connects to exactly the addresses checked here (see `service.py`)."""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from photochanger.core.errors import PhotoChangerError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]


class WebhookTargetRefused(PhotoChangerError):
    status_code = 422
    code = "webhook_target_refused"
    title = "Webhook target refused"


# Every entry of the IANA IPv4 Special-Purpose Address Registry (iana-ipv4-special-registry, 2024-09),
# including the few marked globally reachable (anycast relays, AS112 sinks: never a webhook receiver), plus
# multicast, which that registry leaves to its own.
SPECIAL_IPV4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network" (RFC 791); 0.0.0.0 itself reaches the local host on Linux
        "10.0.0.0/8",  # private (RFC 1918)
        "100.64.0.0/10",  # shared address space, carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link local, cloud metadata services
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments (RFC 6890), incl. 192.0.0.8, .9, .10, .170, .171
        "192.0.2.0/24",  # documentation TEST-NET-1
        "192.31.196.0/24",  # AS112-v4 (RFC 7535)
        "192.52.193.0/24",  # AMT (RFC 7450)
        "192.88.99.0/24",  # deprecated 6to4 relay anycast (RFC 7526)
        "192.168.0.0/16",  # private
        "192.175.48.0/24",  # direct delegation AS112 (RFC 7534)
        "198.18.0.0/15",  # benchmarking (RFC 2544)
        "198.51.100.0/24",  # documentation TEST-NET-2
        "203.0.113.0/24",  # documentation TEST-NET-3
        "224.0.0.0/4",  # multicast (RFC 5771)
        "240.0.0.0/4",  # reserved (RFC 1112), includes 255.255.255.255 limited broadcast
    )
)

# Ordinary IPv6 unicast lives in 2000::/3 (RFC 4291 §2.4); everything else (::/8 with IPv4-compatible and
# IPv4-mapped forms, 64:ff9b::/96 and 64:ff9b:1::/48 NAT64, 100::/64 discard, 5f00::/16 SRv6, fc00::/7, fe80::/10,
# the deprecated site-local fec0::/10, ff00::/8 multicast) is refused by that rule alone. Inside 2000::/3, every
# entry of the IANA IPv6 Special-Purpose Address Registry (iana-ipv6-special-registry, 2025-01):
IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
SPECIAL_IPV6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "::/128",  # unspecified
        "::1/128",  # loopback
        "::ffff:0:0/96",  # IPv4-mapped (RFC 4291)
        "::/96",  # IPv4-compatible, deprecated (RFC 4291 §2.5.5.1)
        "64:ff9b::/96",  # NAT64 well-known prefix (RFC 6052)
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "100::/64",  # discard-only (RFC 6666)
        "100:0:0:1::/64",  # dummy prefix (RFC 9780)
        "2001::/23",  # IETF protocol assignments (RFC 2928), which holds the next seven
        "2001::/32",  # Teredo (RFC 4380)
        "2001:1::1/128",  # port control protocol anycast (RFC 7723)
        "2001:1::2/128",  # TURN anycast (RFC 8155)
        "2001:1::3/128",  # DNS-SD service registration protocol anycast (RFC 9665)
        "2001:2::/48",  # benchmarking (RFC 5180)
        "2001:3::/32",  # AMT (RFC 7450)
        "2001:4:112::/48",  # AS112-v6 (RFC 7535)
        "2001:10::/28",  # deprecated ORCHID (RFC 4843)
        "2001:20::/28",  # ORCHIDv2 (RFC 7343)
        "2001:30::/28",  # drone remote ID DETs (RFC 9374)
        "2001:db8::/32",  # documentation (RFC 3849)
        "2002::/16",  # 6to4 (RFC 3056): embeds any IPv4 address, private ones included
        "2620:4f:8000::/48",  # direct delegation AS112 (RFC 7534)
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # SRv6 SIDs (RFC 9602)
        "fc00::/7",  # unique local (RFC 4193)
        "fe80::/10",  # link local
        "fec0::/10",  # site local, deprecated (RFC 3879)
        "ff00::/8",  # multicast
    )
)


def is_ordinary_global(address: IPAddress) -> bool:
    """True only for global unicast outside every special-purpose range. An explicit allow rule, because
    `ipaddress.is_global` passes `::a.b.c.d`, NAT64, 192.0.0.0/24 and fec0::/10."""
    if isinstance(address, ipaddress.IPv4Address):
        return not any(address in net for net in SPECIAL_IPV4)
    if address.scope_id:
        return False
    return address in IPV6_GLOBAL_UNICAST and not any(address in net for net in SPECIAL_IPV6)


def _allowed(host: str, addresses: Iterable[IPAddress], allow: Iterable[str]) -> bool:
    entries = list(allow)
    if host.lower() in {entry.lower() for entry in entries}:
        return True
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return all(any(address in network for network in networks) for address in addresses)


def validate_url(url: str) -> tuple[str, int]:
    """Syntax check (scheme, host, no credentials); returns (host, port)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise WebhookTargetRefused("Webhook URLs must use http or https.")
    if not parts.hostname:
        raise WebhookTargetRefused("The webhook URL has no host.")
    if parts.username or parts.password:
        raise WebhookTargetRefused("Put no credentials in the webhook URL; use the signing secret.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise WebhookTargetRefused("The webhook URL has an invalid port.") from exc
    return parts.hostname, port


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, through the operating system's resolver."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class CheckedTarget:
    """A URL whose host was resolved once and found acceptable: connect to `addresses`, and nowhere else."""

    url: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


async def check_target(
    url: str, allow: Iterable[str], *, resolver: Resolver = system_resolver
) -> CheckedTarget:
    """Refuse non-http(s) URLs and hosts resolving to anything but ordinary global unicast addresses, unless
    the host or every address it resolves to is allow-listed. Resolution happens here, once per attempt:
    the caller must connect to the returned addresses, so a second, different DNS answer is never used."""
    host, port = validate_url(url)
    try:
        answers = await resolver(host, port)
        # An IPv6 zone (`fe80::1%eth0`) is refused by the rule below; keep it parseable.
        addresses = tuple(dict.fromkeys(ipaddress.ip_address(answer) for answer in answers))
    except (OSError, ValueError) as exc:
        raise WebhookTargetRefused(f"The webhook host {host!r} does not resolve.") from exc
    if not addresses:
        raise WebhookTargetRefused(f"The webhook host {host!r} does not resolve.")
    if all(is_ordinary_global(a) for a in addresses) or _allowed(host, addresses, allow):
        return CheckedTarget(url, host, port, addresses)
    raise WebhookTargetRefused(f"The webhook host {host!r} is a private, local or special-purpose address.")
