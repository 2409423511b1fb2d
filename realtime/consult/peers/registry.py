"""The registry of this process's server-side peers: a cap on their number, expiry, and shutdown."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Protocol

from core.errors import Unavailable

log = logging.getLogger(__name__)


class ServerPeer(Protocol):
    """A server-side peer: one or more aiortc connections serving one purpose."""

    id: uuid.UUID
    # Connections it holds: the cap counts connections, since each is a socket and a media pipeline.
    weight: int

    async def close(self) -> None: ...


class PeerRegistry:
    """Owned by the app's lifespan; `close_all` at shutdown hangs up every peer."""

    def __init__(self, *, max_connections: int) -> None:
        self.max_connections = max_connections
        self._peers: dict[uuid.UUID, ServerPeer] = {}
        self._timers: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._closing: set[asyncio.Task[bool]] = set()
        self._closed = False

    @property
    def connections(self) -> int:
        return sum(peer.weight for peer in self._peers.values())

    def __len__(self) -> int:
        return len(self._peers)

    def admit(self, peer: ServerPeer, *, lifetime_s: float) -> None:
        """Registers `peer` and closes it after `lifetime_s`; Unavailable when the cap would be passed."""
        # No await between the check and the insert: two requests cannot both take the last place.
        if self._closed:
            raise Unavailable("The server is shutting down; try again in a moment.")
        if self.connections + peer.weight > self.max_connections:
            raise Unavailable(
                "The server is handling as many media connections as it is configured for; "
                "try again in a few minutes."
            )
        self._peers[peer.id] = peer
        loop = asyncio.get_running_loop()
        self._timers[peer.id] = loop.call_later(lifetime_s, self.close_soon, peer.id)

    def get(self, peer_id: uuid.UUID) -> ServerPeer | None:
        return self._peers.get(peer_id)

    def close_soon(self, peer_id: uuid.UUID) -> None:
        """Closes the peer in a task of its own (for callbacks that cannot await)."""
        if peer_id not in self._peers:
            return
        task = asyncio.get_running_loop().create_task(self.close(peer_id))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self, peer_id: uuid.UUID) -> bool:
        """Removes and closes the peer; False if it was not (or no longer) registered."""
        peer = self._peers.pop(peer_id, None)
        timer = self._timers.pop(peer_id, None)
        if timer is not None:
            timer.cancel()
        if peer is None:
            return False
        try:
            await peer.close()
        except Exception:
            # One peer failing to close must not keep the others (or shutdown) from closing.
            log.exception("server peer %s failed to close", peer_id)
        return True

    async def close_all(self) -> None:
        """Closes every peer and waits for closes already under way; admits nothing afterwards."""
        self._closed = True
        await asyncio.gather(*(self.close(peer_id) for peer_id in list(self._peers)))
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
