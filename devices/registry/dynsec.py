"""What the broker should allow, in the dynamic security plugin's terms: roles, ACLs and clients.

Pure data, no I/O: `broker_access` sends these commands over MQTT; `broker_config` writes the same
model into the plugin's JSON file for a broker that starts from scratch.

- each device: a client named by its wire id with a role of its own that may publish and subscribe
  only under `ownat/v1/devices/<id>/`, except that it may not publish its own acknowledgements
  (`.../ack`). Mosquitto 2.0's plugin does not substitute `%u` in ACLs, hence a role per device
  rather than one shared pattern;
- the ingest workers: may subscribe (also as `$share/<group>/...`) to every device's topics and
  publish nothing but the end-to-end acknowledgements on `ownat/v1/devices/<id>/ack`;
- the platform's admin account: may use the plugin's control topic and nothing else.
Everything not allowed is denied: publishing and subscribing are off by default.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from devices.protocol import TOPIC_ROOT, ack_topic
from devices.registry.credentials import SecretHash

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
ADMIN_ROLE = "ownat-admin"
INGEST_ROLE = "ownat-ingest"
DEVICE_ROLE_PREFIX = "ownat-device-"
# Platform accounts live under this prefix, so no device may be registered with it.
RESERVED_PREFIX = "ownat-"
# Written on each device client, so a sync can tell our clients (and their credential) from others.
CREDENTIAL_MARKER = "ownat device credential "
_MARKER = re.compile(re.escape(CREDENTIAL_MARKER) + r"([0-9a-f-]{36})$")

Command = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Account:
    """A platform account on the broker (admin or ingest) with its plain password, from settings."""

    username: str
    password: str


def device_role(device_id: str) -> str:
    return f"{DEVICE_ROLE_PREFIX}{device_id}"


def credential_marker(credential_id: uuid.UUID) -> str:
    return f"{CREDENTIAL_MARKER}{credential_id}"


def credential_of(client: dict[str, Any]) -> uuid.UUID | None:
    """The credential id a broker client was created for, or None if it is not one of our devices."""
    match = _MARKER.match(str(client.get("textdescription") or ""))
    return uuid.UUID(match.group(1)) if match else None


def _acl(acltype: str, topic: str, *, allow: bool = True, priority: int = 0) -> dict[str, Any]:
    return {"acltype": acltype, "topic": topic, "allow": allow, "priority": priority}


def device_acls(device_id: str) -> list[dict[str, Any]]:
    own = f"{TOPIC_ROOT}/{device_id}/#"
    return [
        _acl("publishClientSend", own),
        _acl("subscribePattern", own),
        # Only the platform says what it has committed: a forged acknowledgement would make the
        # device (or its edge gateway) delete readings that were never stored.
        _acl("publishClientSend", ack_topic(device_id), allow=False, priority=10),
    ]


def ingest_acls() -> list[dict[str, Any]]:
    every_device = f"{TOPIC_ROOT}/+/#"
    return [
        _acl("subscribePattern", every_device),
        # The broker checks a shared subscription's filter with its `$share/<group>/` prefix.
        _acl("subscribePattern", f"$share/+/{every_device}"),
        _acl("publishClientReceive", f"{TOPIC_ROOT}/#"),
        # Explicit, above any default: the ingest account can never speak for a device...
        _acl("publishClientSend", f"{TOPIC_ROOT}/#", allow=False, priority=10),
        # ...it only tells each device what is committed (checked first: higher priority).
        _acl("publishClientSend", f"{TOPIC_ROOT}/+/ack", priority=20),
    ]


def admin_acls() -> list[dict[str, Any]]:
    control = "$CONTROL/dynamic-security/#"
    return [
        _acl("publishClientSend", control),
        _acl("publishClientReceive", control),
        _acl("subscribePattern", control),
    ]


DEFAULT_ACL_ACCESS = {
    "publishClientSend": False,
    "publishClientReceive": True,
    "subscribe": False,
    "unsubscribe": True,
}


def role_commands(rolename: str, acls: Iterable[dict[str, Any]]) -> list[Command]:
    """Creates the role (an existing one answers "Role already exists") and adds each ACL."""
    commands: list[Command] = [{"command": "createRole", "rolename": rolename}]
    commands += [{"command": "addRoleACL", "rolename": rolename, **acl} for acl in acls]
    return commands


def default_access_command() -> Command:
    acls = [{"acltype": kind, "allow": allow} for kind, allow in DEFAULT_ACL_ACCESS.items()]
    return {"command": "setDefaultACLAccess", "acls": acls}


def device_client_fields(device_id: str, credential_id: uuid.UUID, secret: str) -> Command:
    """The fields of a device's client for createClient or modifyClient."""
    return {
        "username": device_id,
        "password": secret,
        "textname": f"Ownat device {device_id}",
        "textdescription": credential_marker(credential_id),
        "roles": [{"rolename": device_role(device_id)}],
    }


def removal_commands(device_id: str) -> list[Command]:
    """Deleting the client also disconnects it at once; the role goes with it."""
    return [
        {"command": "deleteClient", "username": device_id},
        {"command": "deleteRole", "rolename": device_role(device_id)},
    ]


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    """A device as the broker file needs it: its id, its current credential and that credential's hash."""

    device_id: str
    credential_id: uuid.UUID
    secret_hash: SecretHash


def _stored_client(username: str, hashed: SecretHash, roles: list[str], **text: str) -> dict[str, Any]:
    return {
        "username": username,
        **text,
        "password": hashed.hash_b64,
        "salt": hashed.salt_b64,
        "iterations": hashed.iterations,
        "roles": [{"rolename": role} for role in roles],
    }


def _stored_role(rolename: str, acls: list[dict[str, Any]]) -> dict[str, Any]:
    return {"rolename": rolename, "acls": acls}


def render_config(
    *, admin: tuple[str, SecretHash], ingest: tuple[str, SecretHash] | None, devices: Iterable[DeviceEntry]
) -> dict[str, Any]:
    """The plugin's JSON configuration for these accounts and devices (hashes only, no secrets)."""
    clients = [_stored_client(admin[0], admin[1], [ADMIN_ROLE], textname="Ownat platform administration")]
    roles = [_stored_role(ADMIN_ROLE, admin_acls()), _stored_role(INGEST_ROLE, ingest_acls())]
    if ingest is not None:
        clients.append(_stored_client(ingest[0], ingest[1], [INGEST_ROLE], textname="Ownat ingest workers"))
    for device in devices:
        role = device_role(device.device_id)
        marker = credential_marker(device.credential_id)
        clients.append(
            _stored_client(
                device.device_id,
                device.secret_hash,
                [role],
                textname=f"Ownat device {device.device_id}",
                textdescription=marker,
            )
        )
        roles.append(_stored_role(role, device_acls(device.device_id)))
    return {"defaultACLAccess": DEFAULT_ACL_ACCESS, "clients": clients, "groups": [], "roles": roles}
