"""The peer registry: the cap counts connections, peers expire by themselves, shutdown closes all."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from core.errors import Unavailable
from realtime.consult.peers.registry import PeerRegistry


class StubPeer:
    """A peer that records its closing (the registry's own logic is under test, not aiortc)."""

    def __init__(self, weight: int = 1, *, fails: bool = False) -> None:
        self.id = uuid.uuid4()
        self.weight = weight
        self.fails = fails
        self.closed = asyncio.Event()

    async def close(self) -> None:
        self.closed.set()
        if self.fails:
            raise RuntimeError("socket already gone")


async def test_the_cap_counts_connections_not_peers() -> None:
    registry = PeerRegistry(max_connections=3)
    registry.admit(StubPeer(weight=2), lifetime_s=60)
    with pytest.raises(Unavailable):
        registry.admit(StubPeer(weight=2), lifetime_s=60)
    registry.admit(StubPeer(weight=1), lifetime_s=60)
    assert (len(registry), registry.connections) == (2, 3)
    await registry.close_all()


async def test_a_peer_closes_itself_when_its_lifetime_ends() -> None:
    registry = PeerRegistry(max_connections=2)
    peer = StubPeer()
    registry.admit(peer, lifetime_s=0.01)
    await asyncio.wait_for(peer.closed.wait(), 10)
    assert registry.get(peer.id) is None
    assert not await registry.close(peer.id)
    await registry.close_all()


async def test_shutdown_closes_every_peer_even_when_one_fails_and_admits_no_more() -> None:
    registry = PeerRegistry(max_connections=5)
    peers = [StubPeer(fails=True), StubPeer(), StubPeer()]
    for peer in peers:
        registry.admit(peer, lifetime_s=60)
    await registry.close_all()
    assert all(peer.closed.is_set() for peer in peers)
    assert len(registry) == 0
    with pytest.raises(Unavailable):
        registry.admit(StubPeer(), lifetime_s=60)
