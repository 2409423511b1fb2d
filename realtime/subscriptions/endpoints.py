"""The rest-hook guard: a subscription may only make the server POST to the public internet.

Checked when the subscription is created and again before every POST (an address may change
between the two; each POST connects to the address judged, through the webhooks' guard
`core.webhook_targets`, which also judges the addresses here): the host is resolved
and every address must be global (no loopback, private,
link-local, multicast or reserved ranges, so a client cannot aim the server at the cloud's metadata
service or the hospital's intranet). Private addresses are allowed only when the settings say so
(the demo and the tests post to loopback). No redirects are followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from clinical.fhir import InvalidResource
from core.webhook_targets import refusal_reason

ALLOWED_SCHEMES = ("https", "http")


class EndpointRefused(Exception):
    """The endpoint is not one this server may post to; the message says why."""


def check_form(url: str, *, allow_private: bool) -> tuple[str, int]:
    """The endpoint's host and port, if it is an absolute http(s) URL without credentials."""
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_SCHEMES or not parts.hostname:
        raise EndpointRefused("the endpoint must be an absolute https URL")
    if parts.scheme == "http" and not allow_private:
        raise EndpointRefused("the endpoint must use https")
    if parts.username or parts.password:
        raise EndpointRefused("the endpoint must not carry credentials; use channel.header")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise EndpointRefused("the endpoint's port is not valid") from None
    return parts.hostname, port


async def check_endpoint(url: str, *, allow_private: bool) -> None:
    """Raises EndpointRefused unless every address the endpoint's host resolves to may be posted to."""
    host, port = check_form(url, allow_private=allow_private)
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise EndpointRefused(f"the endpoint's host does not resolve ({error})") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        reason = refusal_reason(address)
        if reason is not None:
            raise EndpointRefused(f"the endpoint resolves to {reason} ({address})")


async def require_endpoint(url: str, *, allow_private: bool) -> None:
    """`check_endpoint`, answered as an invalid Subscription naming the field."""
    try:
        await check_endpoint(url, allow_private=allow_private)
    except EndpointRefused as refusal:
        raise InvalidResource(f"Subscription.channel.endpoint: {refusal}.") from None
