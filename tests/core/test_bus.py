"""The bus, in-process and on a real Redis: ordering, fan-out, patterns, isolation and recovery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from core.bus import Bus, BusClosedError, BusMessage, Subscription
from core.bus.backoff import reconnect_delay_s
from tests.core.conftest import FAST_TUNING, GUARD_S, BusFactory, RedisBusFactory, until_redis_shows


async def receive(subscription: AsyncIterator[BusMessage], count: int) -> list[BusMessage]:
    """The next `count` messages of a subscription."""
    async with asyncio.timeout(GUARD_S):
        return [await anext(subscription) for _ in range(count)]


async def test_messages_arrive_in_publish_order_per_channel(bus: Bus) -> None:
    async with bus.subscribe(channels=["order.a", "order.b"]) as subscription:
        for n in range(1000):
            await bus.publish("order.a", {"n": n})
            await bus.publish("order.b", {"n": n})
        messages = await receive(subscription, 2000)

    for channel in ("order.a", "order.b"):
        assert [m.data["n"] for m in messages if m.channel == channel] == list(range(1000))
    assert {m.kind for m in messages} == {"message"}


async def test_publish_many_keeps_order_across_channels(bus: Bus) -> None:
    shared = {"readings": [1, 2, 3]}
    batch = [("many.a", {"n": 0}), ("many.b", shared), ("many.a", shared), ("many.b", {"n": 3})]
    async with bus.subscribe(patterns=["many.*"]) as subscription:
        await bus.publish_many(batch)
        await bus.publish_many([])
        messages = await receive(subscription, 4)

    assert [(m.channel, m.data) for m in messages] == batch


async def test_every_subscriber_receives_every_message(bus: Bus) -> None:
    async with AsyncExitStack() as stack:
        subscriptions = [
            await stack.enter_async_context(bus.subscribe(channels=["fanout"])) for _ in range(8)
        ]
        for n in range(100):
            await bus.publish("fanout", {"n": n})
        for subscription in subscriptions:
            assert [m.data["n"] for m in await receive(subscription, 100)] == list(range(100))


async def test_pattern_receives_matching_channels_only(bus: Bus) -> None:
    async with bus.subscribe(channels=["end"], patterns=["vitals.ward.*"]) as subscription:
        await bus.publish("vitals.ward.3", {"hr": 71})
        await bus.publish("vitals.patient.9", {"hr": 80})
        await bus.publish("vitals.ward.7", {"hr": 64})
        # Anything wrongly matched would arrive before this marker.
        await bus.publish("end", {})
        messages = await receive(subscription, 3)

    assert [(m.channel, m.pattern, m.data) for m in messages] == [
        ("vitals.ward.3", "vitals.ward.*", {"hr": 71}),
        ("vitals.ward.7", "vitals.ward.*", {"hr": 64}),
        ("end", None, {}),
    ]


async def test_datetimes_uuids_and_decimals_travel_as_strings(bus: Bus) -> None:
    at, reading_id = datetime(2024, 5, 1, 12, 30, tzinfo=UTC), uuid4()
    async with bus.subscribe(channels=["typed"]) as subscription:
        await bus.publish("typed", {"at": at, "id": reading_id, "amount": Decimal("12.50")})
        (message,) = await receive(subscription, 1)

    assert message.data == {"at": at.isoformat(), "id": str(reading_id), "amount": "12.50"}


async def test_unserialisable_message_is_refused(bus: Bus) -> None:
    with pytest.raises(TypeError):
        await bus.publish("typed", {"value": object()})


async def test_resubscribing_receives_new_messages_only(bus: Bus) -> None:
    async with bus.subscribe(channels=["again"]) as first:
        await bus.publish("again", {"n": 1})
        assert [m.data for m in await receive(first, 1)] == [{"n": 1}]
    await bus.publish("again", {"n": 2})  # nobody is listening: lost, as pub/sub promises

    async with bus.subscribe(channels=["again"]) as second:
        await bus.publish("again", {"n": 3})
        assert [m.data for m in await receive(second, 1)] == [{"n": 3}]


async def test_closing_the_bus_ends_open_subscriptions(make_bus: BusFactory) -> None:
    bus = make_bus("closing:")
    async with bus.subscribe(channels=["closing"]) as subscription:
        consumer = asyncio.create_task(_collect(subscription))
        await bus.publish("closing", {"n": 1})
        await bus.close()
        async with asyncio.timeout(GUARD_S):
            # The message may or may not have been read before the close; the iteration must end.
            assert await consumer in ([], [{"n": 1}])
    with pytest.raises(BusClosedError):
        await bus.ping()
    with pytest.raises(BusClosedError):
        await bus.publish("closing", {})


async def _collect(subscription: Subscription) -> list[dict[str, object]]:
    return [message.data async for message in subscription]


async def test_ping_answers_while_open(bus: Bus) -> None:
    await bus.ping()


async def test_subscribe_needs_names_not_a_string(bus: Bus) -> None:
    with pytest.raises(ValueError):
        bus.subscribe()
    with pytest.raises(TypeError):
        bus.subscribe(channels="vitals")


async def test_another_prefix_sees_nothing(make_redis_bus: RedisBusFactory) -> None:
    ours, theirs = make_redis_bus("iso-ours:"), make_redis_bus("iso-theirs:")
    async with theirs.subscribe(channels=["shared"], patterns=["*"]) as subscription:
        await ours.publish("shared", {"from": "ours"})
        # Redis hands a publish to subscribers before answering it, so a leak would arrive first.
        await theirs.publish("shared", {"from": "theirs"})
        messages = await receive(subscription, 2)

    assert [(m.pattern, m.data) for m in messages] == [(None, {"from": "theirs"}), ("*", {"from": "theirs"})]


async def test_glob_characters_in_the_prefix_match_only_themselves(
    make_redis_bus: RedisBusFactory,
) -> None:
    # Unescaped, "gl[ob]*:x.*" would also match the channel "glo*:x.1" of the other bus.
    ours, theirs = make_redis_bus("gl[ob]*:"), make_redis_bus("glo*:")
    async with ours.subscribe(patterns=["x.*"]) as subscription:
        await theirs.publish("x.1", {"from": "theirs"})
        await ours.publish("x.2", {"from": "ours"})
        (message,) = await receive(subscription, 1)

    assert (message.channel, message.data) == ("x.2", {"from": "ours"})


async def test_leaving_a_subscription_releases_its_connection(
    make_redis_bus: RedisBusFactory, admin_redis: Redis
) -> None:
    bus = make_redis_bus("release:")
    async with bus.subscribe(channels=["gone"]) as subscription:
        assert await _client_id(admin_redis, subscription.client_name) is not None

    # The server notices the closed socket on its own schedule; wait for it rather than guess.
    async def released() -> bool:
        return await _client_id(admin_redis, subscription.client_name) is None

    await until_redis_shows(released)


async def test_killed_connection_yields_resync_then_later_messages(
    make_redis_bus: RedisBusFactory, admin_redis: Redis
) -> None:
    bus = make_redis_bus("kill:")
    async with bus.subscribe(channels=["vitals.bed.1"], patterns=["alarms.*"]) as subscription:
        await bus.publish("vitals.bed.1", {"n": 1})
        assert [m.data for m in await receive(subscription, 1)] == [{"n": 1}]
        old_id = await _client_id(admin_redis, subscription.client_name)
        assert old_id is not None

        await admin_redis.client_kill_filter(_id=old_id)
        markers = await receive(subscription, 2)
        assert [(m.kind, m.channel, m.data) for m in markers] == [
            ("resync", "vitals.bed.1", {}),
            ("resync", "alarms.*", {}),
        ]

        await bus.publish("vitals.bed.1", {"n": 2})
        await bus.publish("alarms.ward.3", {"level": "high"})
        later = await receive(subscription, 2)
        assert [(m.kind, m.channel, m.data) for m in later] == [
            ("message", "vitals.bed.1", {"n": 2}),
            ("message", "alarms.ward.3", {"level": "high"}),
        ]
        assert await _client_id(admin_redis, subscription.client_name) not in (None, old_id)


async def test_idle_subscription_pings_and_stays_subscribed(
    make_redis_bus: RedisBusFactory, admin_redis: Redis
) -> None:
    bus = make_redis_bus("idle:", replace(FAST_TUNING, idle_ping_s=0.2))
    async with bus.subscribe(channels=["quiet"]) as subscription:
        waiting = asyncio.create_task(anext(subscription))

        # Wait until the idle consumer has sent its keep-alive PING, then check nothing was lost.
        async def pinged() -> bool:
            return await _last_command(admin_redis, subscription.client_name) == "ping"

        await until_redis_shows(pinged)
        await bus.publish("quiet", {"n": 1})
        async with asyncio.timeout(GUARD_S):
            message = await waiting

    assert (message.kind, message.data) == ("message", {"n": 1})


async def _last_command(admin_redis: Redis, client_name: str) -> str | None:
    entries = [entry for entry in await admin_redis.client_list() if entry.get("name") == client_name]
    return entries[0]["cmd"] if entries else None


async def _client_id(admin_redis: Redis, client_name: str) -> str | None:
    """The id of the connection named `client_name`, or None once it is gone."""
    matches = [entry["id"] for entry in await admin_redis.client_list() if entry.get("name") == client_name]
    return matches[0] if matches else None


@pytest.mark.parametrize("attempt", [0, 1, 5, 40, 1000])
def test_reconnect_delay_is_jittered_below_a_capped_ceiling(attempt: int) -> None:
    ceiling_s = min(3.0, 0.1 * 2**attempt)
    delays = [reconnect_delay_s(attempt, base_s=0.1, cap_s=3.0) for _ in range(200)]
    assert all(0.0 <= delay <= ceiling_s for delay in delays)
    assert len(set(delays)) > 1


class Reader:
    """Iterates a subscription in a task of its own, as a consumer does while it adds channels."""

    def __init__(self, subscription: Subscription) -> None:
        self.queue: asyncio.Queue[BusMessage] = asyncio.Queue()
        self._task = asyncio.create_task(self._run(subscription))

    async def _run(self, subscription: Subscription) -> None:
        async for message in subscription:
            self.queue.put_nowait(message)

    async def next(self, count: int) -> list[BusMessage]:
        async with asyncio.timeout(GUARD_S):
            return [await self.queue.get() for _ in range(count)]

    def stop(self) -> None:
        self._task.cancel()


async def test_channels_added_and_removed_while_open(bus: Bus) -> None:
    async with bus.subscribe(patterns=["dyn.always.*"]) as subscription:
        reader = Reader(subscription)
        await bus.publish("dyn.patient.1", {"n": 0})  # not subscribed yet: never arrives
        await subscription.add(["dyn.patient.1", "dyn.patient.2"])
        await bus.publish("dyn.patient.1", {"n": 1})
        await bus.publish("dyn.patient.2", {"n": 2})
        assert [(m.channel, m.data) for m in await reader.next(2)] == [
            ("dyn.patient.1", {"n": 1}),
            ("dyn.patient.2", {"n": 2}),
        ]
        await subscription.remove(["dyn.patient.1"])
        await bus.publish("dyn.patient.1", {"n": 3})
        await bus.publish("dyn.patient.2", {"n": 4})
        await bus.publish("dyn.always.x", {"n": 5})
        assert [(m.channel, m.data) for m in await reader.next(2)] == [
            ("dyn.patient.2", {"n": 4}),
            ("dyn.always.x", {"n": 5}),
        ]
        reader.stop()


async def test_added_channels_survive_a_reconnect(
    make_redis_bus: RedisBusFactory, admin_redis: Redis
) -> None:
    bus = make_redis_bus("dynkill:")
    async with bus.subscribe(patterns=["alarms.*"]) as subscription:
        reader = Reader(subscription)
        await subscription.add(["vitals.patient.7"])
        old_id = await _client_id(admin_redis, subscription.client_name)
        await admin_redis.client_kill_filter(_id=old_id)
        markers = await reader.next(2)
        assert {(m.kind, m.channel) for m in markers} == {
            ("resync", "vitals.patient.7"),
            ("resync", "alarms.*"),
        }
        await bus.publish("vitals.patient.7", {"n": 1})
        assert [m.data for m in await reader.next(1)] == [{"n": 1}]
        reader.stop()
