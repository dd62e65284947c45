"""SSRF guard: webhook targets must be http(s) and resolve only to public addresses, unless allow-listed."""

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from photochanger.core.errors import PhotoChangerError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookTargetRefused(PhotoChangerError):
    status_code = 422
    code = "webhook_target_refused"
    title = "Webhook target refused"


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


def _public(address: IPAddress) -> bool:
    return address.is_global and not address.is_multicast


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


async def check_target(url: str, allow: Iterable[str]) -> None:
    """Refuse non-http(s) URLs and hosts resolving to private, loopback, link-local or reserved addresses,
    unless the host or every address it resolves to is allow-listed. Resolution happens at send time so a
    changed DNS answer is caught too."""
    host, port = validate_url(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise WebhookTargetRefused(f"The webhook host {host!r} does not resolve.") from exc
    addresses = {ipaddress.ip_address(info[4][0]) for info in infos}
    if not addresses:
        raise WebhookTargetRefused(f"The webhook host {host!r} does not resolve.")
    if all(_public(a) for a in addresses) or _allowed(host, addresses, allow):
        return
    raise WebhookTargetRefused(f"The webhook host {host!r} is a private or local address.")
