"""Where webhooks may go: public addresses only, unless the host is on the allow-list.

An administrator's webhook URL is a request our server makes on its own network. Pointed at loopback,
link-local (cloud metadata at 169.254.169.254), private, shared, multicast or unspecified addresses,
it would reach services never meant to be reachable from outside (server-side request forgery). So
every address a webhook would connect to must be globally routable, IPv4 or IPv6 (IPv4-mapped IPv6
is judged by its IPv4 address), unless its host is listed in `OWNAT_WEBHOOK_ALLOWED_HOSTS`, for a
hospital's own systems on its internal network.

The URL is judged at registration, and again at each delivery: a name is resolved then, every address
it resolves to is judged, and the connection goes to the address that was judged (the name still in
the Host header and in TLS, for its certificate), so a name that changes its answer between the check
and the connection (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from core.errors import InvalidInput

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(InvalidInput):
    """The webhook's host is, or resolves to, an address webhooks may not reach."""

    code, title = "webhook-target-refused", "Webhook target refused"


@dataclass(frozen=True, slots=True)
class PinnedTarget:
    """A webhook URL rewritten to the judged address, with what keeps the name for HTTP and TLS."""

    url: str
    host_header: str
    tls_name: str | None

    @property
    def extensions(self) -> dict[str, str] | None:
        """httpx's request extensions: the name, not the pinned address, is what the receiver's
        certificate knows."""
        return {"sni_hostname": self.tls_name} if self.tls_name else None


def refusal_reason(address: IpAddress) -> str | None:
    """Why webhooks may not go to `address`, or None if they may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # Multicast first: some multicast ranges count as global, none is a web server.
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "an address that is not publicly routable"
    return None


def _allowed(host: str, allowed_hosts: frozenset[str]) -> bool:
    return host.lower().rstrip(".") in allowed_hosts


def _literal(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _judge(host: str, address: IpAddress) -> None:
    reason = refusal_reason(address)
    if reason is not None:
        raise TargetRefused(
            f"{host} is {reason} ({address}); webhooks go to public addresses only, "
            "unless the host is listed in OWNAT_WEBHOOK_ALLOWED_HOSTS",
            extra={"pointer": "#/body/url"},
        )


async def _resolve(host: str, port: int) -> list[IpAddress]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # Scope ids ("fe80::1%eth0") are dropped: the address itself is what is judged.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def normalised_hosts(hosts: list[str]) -> frozenset[str]:
    """The allow-list as compared: lower case, without a trailing dot, IPv6 without brackets."""
    return frozenset(h.strip().lower().rstrip(".").strip("[]") for h in hosts if h.strip())


async def check_registration(url: str, allowed_hosts: frozenset[str]) -> None:
    """Refuses a URL whose host is, or now resolves to, an address webhooks may not reach.

    A name that does not resolve yet is accepted: each delivery resolves and judges it again.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    if _allowed(host, allowed_hosts):
        return
    literal = _literal(host)
    if literal is not None:
        _judge(host, literal)
        return
    if host == "localhost" or host.endswith(".localhost"):
        raise TargetRefused(
            f"{host} is a loopback name; list it in OWNAT_WEBHOOK_ALLOWED_HOSTS to use it",
            extra={"pointer": "#/body/url"},
        )
    try:
        addresses = await _resolve(host, parts.port or 443)
    except OSError:
        return
    for address in addresses:
        _judge(host, address)


async def pinned_target(url: str, allowed_hosts: frozenset[str]) -> PinnedTarget:
    """Resolves the URL's host, judges every address, and pins the first for the connection."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    literal = _literal(host)
    if literal is not None:
        if not _allowed(host, allowed_hosts):
            _judge(host, literal)
        return PinnedTarget(url=url, host_header=parts.netloc.rpartition("@")[2], tls_name=None)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = await _resolve(host, port)
    except OSError as error:
        raise httpx.ConnectError(f"cannot resolve {host}: {error}") from error
    if not _allowed(host, allowed_hosts):
        for address in addresses:
            _judge(host, address)
    address = addresses[0]
    shown = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    userinfo, at, _ = parts.netloc.rpartition("@")
    netloc = f"{userinfo}{at}{netloc}"  # credentials in the URL still go with the request
    pinned = parts._replace(netloc=netloc).geturl()
    return PinnedTarget(
        url=pinned,
        host_header=parts.netloc.rpartition("@")[2],
        tls_name=host if parts.scheme == "https" else None,
    )
