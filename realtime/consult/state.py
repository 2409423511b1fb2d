"""Room state shared by the api instances: who is in each room, waiting or admitted, and where.

Redis holds one hash per room (participant id -> JSON record), expiring with the room, so that
participants connected to different instances see one room; the embedded mode keeps the same in
this process's memory. Losing it only drops live connections' state: the record of the
consultation is in the database.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Protocol

from redis.asyncio import BlockingConnectionPool, Redis

from core.db import utc_now
from realtime.consult.protocol import Participant, ParticipantRole, ParticipantStatus

REDIS_CONNECTIONS = 32


@dataclass(frozen=True, slots=True)
class Member:
    """One connection in a room; `key` identifies the person (one connection each)."""

    id: uuid.UUID
    key: str  # "user:<id>" or "guest:<invitation id>"
    role: ParticipantRole
    display_name: str
    status: ParticipantStatus
    instance: str
    user_id: uuid.UUID | None = None
    invitation_id: uuid.UUID | None = None

    def public(self, *, polite: bool = False) -> Participant:
        """What other participants see."""
        return Participant(
            id=self.id, role=self.role, display_name=self.display_name, status=self.status, polite=polite
        )

    def admitted(self) -> Member:
        return replace(self, status="admitted")

    def encode(self) -> str:
        data = asdict(self)
        return json.dumps({k: str(v) if isinstance(v, uuid.UUID) else v for k, v in data.items()})

    @classmethod
    def decode(cls, text: str | bytes) -> Member:
        data = json.loads(text)
        for name in ("id", "user_id", "invitation_id"):
            if data[name] is not None:
                data[name] = uuid.UUID(data[name])
        return cls(**data)


class RoomStore(Protocol):
    """Members of rooms, forgotten when the room's expiry passes."""

    async def put(self, room: uuid.UUID, member: Member, *, expires_at: datetime) -> None: ...

    async def get(self, room: uuid.UUID, member_id: uuid.UUID) -> Member | None: ...

    async def members(self, room: uuid.UUID) -> list[Member]: ...

    async def remove(self, room: uuid.UUID, member_id: uuid.UUID) -> bool: ...

    async def clear(self, room: uuid.UUID) -> None: ...

    async def close(self) -> None: ...


class RedisRoomStore:
    """A hash per room, expiring when the room closes."""

    def __init__(self, redis_client: Redis, key_prefix: str) -> None:
        self._redis = redis_client
        self._prefix = f"{key_prefix}consult:room:"

    def _key(self, room: uuid.UUID) -> str:
        return f"{self._prefix}{room}"

    async def put(self, room: uuid.UUID, member: Member, *, expires_at: datetime) -> None:
        """Adds or replaces `member`; the room expires at `expires_at`."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key(room), str(member.id), member.encode())
            pipe.expireat(self._key(room), expires_at)
            await pipe.execute()

    async def get(self, room: uuid.UUID, member_id: uuid.UUID) -> Member | None:
        """The member, if in the room."""
        raw = await self._redis.hget(self._key(room), str(member_id))
        return None if raw is None else Member.decode(raw)

    async def members(self, room: uuid.UUID) -> list[Member]:
        """Everyone in the room."""
        return [Member.decode(raw) for raw in (await self._redis.hgetall(self._key(room))).values()]

    async def remove(self, room: uuid.UUID, member_id: uuid.UUID) -> bool:
        """Removes the member; False if it was not there (already removed elsewhere)."""
        return bool(await self._redis.hdel(self._key(room), str(member_id)))

    async def clear(self, room: uuid.UUID) -> None:
        """Forgets the room."""
        await self._redis.delete(self._key(room))

    async def close(self) -> None:
        await self._redis.aclose()


class MemoryRoomStore:
    """The same in memory, for the embedded mode (one process)."""

    def __init__(self) -> None:
        self._rooms: dict[uuid.UUID, tuple[datetime, dict[uuid.UUID, Member]]] = {}

    def _room(self, room: uuid.UUID) -> dict[uuid.UUID, Member]:
        entry = self._rooms.get(room)
        if entry is None or entry[0] <= utc_now():
            self._rooms.pop(room, None)
            return {}
        return entry[1]

    async def put(self, room: uuid.UUID, member: Member, *, expires_at: datetime) -> None:
        """Adds or replaces `member`; the room expires at `expires_at`."""
        members = self._room(room)
        members[member.id] = member
        self._rooms[room] = (expires_at, members)

    async def get(self, room: uuid.UUID, member_id: uuid.UUID) -> Member | None:
        """The member, if in the room."""
        return self._room(room).get(member_id)

    async def members(self, room: uuid.UUID) -> list[Member]:
        """Everyone in the room."""
        return list(self._room(room).values())

    async def remove(self, room: uuid.UUID, member_id: uuid.UUID) -> bool:
        """Removes the member; False if it was not there."""
        return self._room(room).pop(member_id, None) is not None

    async def clear(self, room: uuid.UUID) -> None:
        """Forgets the room."""
        self._rooms.pop(room, None)

    async def close(self) -> None:
        self._rooms.clear()


def create_room_store(*, redis_url: str | None, key_prefix: str) -> RoomStore:
    """A Redis store when a URL is given, otherwise an in-memory one (the embedded mode)."""
    if redis_url:
        # A burst of joins waits for a connection instead of failing with "too many connections".
        pool = BlockingConnectionPool.from_url(redis_url, max_connections=REDIS_CONNECTIONS, timeout=30)
        return RedisRoomStore(Redis(connection_pool=pool), key_prefix)
    return MemoryRoomStore()
