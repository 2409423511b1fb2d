"""Keeping the running broker's access control in step with the registry, through the dynamic security plugin.

Why the plugin, not a generated password file and ACL file reloaded by SIGHUP: the broker in the
production stack is a separate container (possibly a separate host), where the platform can send MQTT
but no signals; a reload does not disconnect a device that is already connected; and files would
have to be shared between containers. Commands on `$CONTROL/dynamic-security/v1` take effect at
once, deleting a client disconnects it on the spot, and they work wherever the broker runs.

When each change reaches the broker:
- a new or rotated secret is pushed *before* the registry commits, because only then is the plain
  secret at hand (the registry keeps a hash). If the broker cannot be reached the request fails and
  nothing is stored; if the commit fails afterwards, the broker holds a secret nobody has seen, and
  the periodic sync removes it (its credential id is unknown to the registry).
- a revocation or deactivation is pushed *after* the commit, by a hook on the session's
  `after_commit` event. The hook belongs to the service, so every caller (REST, command line, job)
  gets it without wiring, and it fires only if the change really committed. It runs as a tracked
  task; if the broker is unreachable or the process dies first, the periodic sync (`broker_sync`),
  which deletes every device client the registry does not list as active, repairs it.
Every command is idempotent, so repeats are harmless.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from devices.registry import dynsec
from devices.registry.dynsec_client import BrokerAdminError, DynsecClient

logger = logging.getLogger(__name__)

AFTER_COMMIT_KEY = "ownat.devices.broker_after_commit"
LISTENING_KEY = "ownat.devices.broker_after_commit_listening"
# Answers that mean "already as wanted": creating what exists, deleting what is gone.
BENIGN_ERRORS = frozenset(
    {"Role already exists", "ACL with this topic already exists", "Client not found", "Role not found"}
)


class BrokerConflict(Exception):
    """The broker already has a client of that name that is not one of the registry's devices."""


def check_responses(commands: list[dynsec.Command], responses: list[dict[str, Any]]) -> None:
    """BrokerAdminError naming the first command the plugin refused (benign answers excepted)."""
    for command, response in zip(commands, responses, strict=True):
        error = response.get("error")
        if error and error not in BENIGN_ERRORS:
            raise BrokerAdminError(f"{command['command']} refused: {error}")


class BrokerAccess:
    """The platform's hand on the broker's access control; one per process."""

    def __init__(self, client: DynsecClient) -> None:
        self.client = client
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, commands: list[dynsec.Command]) -> list[dict[str, Any]]:
        """Runs commands, raising on any refusal that is not benign."""
        responses = await self.client.execute(commands)
        check_responses(commands, responses)
        return responses

    async def grant_device(self, *, device_id: str, credential_id: uuid.UUID, secret: str) -> None:
        """Creates (or updates) the device's client and role so that it may connect with `secret`."""
        role = dynsec.role_commands(dynsec.device_role(device_id), dynsec.device_acls(device_id))
        await self.run(role)
        fields = dynsec.device_client_fields(device_id, credential_id, secret)
        [created] = await self.client.execute([{"command": "createClient", **fields}])
        if created.get("error") == "Client already exists":
            await self._ensure_ours(device_id)
            # A changed password also disconnects whoever is connected with the old one.
            await self.run([{"command": "modifyClient", **fields}])
        elif created.get("error"):
            raise BrokerAdminError(f"createClient refused: {created['error']}")

    async def _ensure_ours(self, device_id: str) -> None:
        [answer] = await self.run([{"command": "getClient", "username": device_id}])
        client = answer.get("data", {}).get("client", {})
        roles = {role.get("rolename") for role in client.get("roles", [])}
        if dynsec.credential_of(client) is None and dynsec.device_role(device_id) not in roles:
            raise BrokerConflict(f"the broker already has a client named {device_id!r} that is not a device")

    async def remove_device(self, device_id: str) -> None:
        """Deletes the device's client (disconnecting it) and role; a no-op when already gone."""
        await self.run(dynsec.removal_commands(device_id))

    def remove_device_after_commit(self, session: AsyncSession, device_id: str) -> None:
        """Removes the device from the broker once `session` commits; nothing happens on rollback."""
        run_after_commit(session, lambda: self._spawn(self._remove_logged(device_id)))

    async def _remove_logged(self, device_id: str) -> None:
        try:
            await self.remove_device(device_id)
        except BrokerAdminError as error:
            # Not lost: the periodic sync deletes every client the registry does not list as active.
            logger.warning("broker not updated for device %s, the next sync will: %s", device_id, error)
        else:
            logger.info("device %s removed from the broker", device_id)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Waits for the broker updates started after commits (at shutdown, or in a test)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def run_after_commit(session: AsyncSession, job: Callable[[], None]) -> None:
    """Calls `job` right after the session's transaction commits; drops it if the transaction rolls back.

    `job` runs inside SQLAlchemy's commit, on the event loop's thread: it must only schedule work.
    """
    sync_session = session.sync_session
    if not sync_session.info.get(LISTENING_KEY):
        # Listeners stay for the session's life (removing one while its event fires is not allowed);
        # each acts on the jobs queued in the transaction that is ending.
        event.listen(sync_session, "after_commit", _run_jobs)
        event.listen(sync_session, "after_rollback", _drop_jobs)
        sync_session.info[LISTENING_KEY] = True
    sync_session.info.setdefault(AFTER_COMMIT_KEY, []).append(job)


def _run_jobs(sync_session: Session) -> None:
    for job in sync_session.info.pop(AFTER_COMMIT_KEY, []):
        job()


def _drop_jobs(sync_session: Session) -> None:
    sync_session.info.pop(AFTER_COMMIT_KEY, None)
