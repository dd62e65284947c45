"""The key a client is throttled by: its address, with an IPv6 client keyed by its whole /64."""

import ipaddress

# An IPv6 end site is handed at least a /64 (RFC 6177): one client can rotate through 2^64 addresses.
IPV6_CLIENT_PREFIX = 64
MAX_KEY_LENGTH = 64


def client_key(host: str | None) -> str:
    """`203.0.113.7` for IPv4 (also when written IPv4-mapped, `::ffff:203.0.113.7`), `2001:db8:1:2::/64` for
    any IPv6 address in that /64; anything unparsable (a test client's name, `unknown`) is kept as given."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host[:MAX_KEY_LENGTH]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)
