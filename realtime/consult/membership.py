"""Entering and leaving rooms: join, admit, remove, leave, end; each step recorded and announced."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update

from core.db import utc_now
from core.errors import NotFound
from realtime.consult import records, rooms
from realtime.consult.connection import ConsultConnection
from realtime.consult.ice import ice_servers
from realtime.consult.models import ConsultEventKind, ConsultInvitation, ConsultRole
from realtime.consult.protocol import (
    CLOSE_ENDED,
    CLOSE_REMOVED,
    CLOSE_REPLACED,
    AdmittedEvent,
    EndedEvent,
    ErrorEvent,
    JoinedEvent,
    PeerJoinedEvent,
    PeerLeftEvent,
    RemovedEvent,
    WaitingEvent,
    dump,
)
from realtime.consult.server import ConsultServer
from realtime.consult.state import Member
from realtime.socket_wire import ProtocolError

# Room state outlives the room's closing by a little, so late leave events still find it.
STATE_GRACE = timedelta(minutes=5)
# Who comes back into the call after a dropped connection once admitted (the recorder is the
# clinician's to start again).
REJOINING_ROLES = frozenset({ConsultRole.PATIENT, ConsultRole.GUEST})


async def join(server: ConsultServer, connection: ConsultConnection, room: uuid.UUID) -> None:
    """Checks the caller's right to the room, then enters them: waiting, or admitted if clinician or
    already admitted earlier in this consultation (a reconnection)."""
    if connection.member is not None:
        raise ProtocolError("already-joined", "Leave the current room before joining another.")
    caller = connection.caller
    async with server.unit_of_work() as session:
        room_pass = await rooms.enter(session=session, caller=caller, room=room, settings=server.settings)
        consult = await records.open_session(session=session, room=room, patient_id=room_pass.patient_id)
        user_id = None if caller.principal is None else caller.principal.user_id
        invitation_id = None if caller.guest is None else caller.guest.invitation_id
        rejoining = room_pass.role in REJOINING_ROLES and await records.admitted_before(
            session=session, consult=consult, user_id=user_id, invitation_id=invitation_id
        )
        member = Member(
            id=uuid.uuid4(),
            key=caller.key,
            role=room_pass.role.value,
            display_name=room_pass.display_name,
            status="admitted" if room_pass.role is ConsultRole.CLINICIAN or rejoining else "waiting",
            instance=server.instance,
            user_id=user_id,
            invitation_id=invitation_id,
        )
        await records.record_event(
            session=session,
            consult=consult,
            kind=ConsultEventKind.JOIN,
            member=member,
            actor=caller.principal,
        )
        if rejoining:
            # On the timeline as an admission of the new connection, by the person themself.
            await records.record_event(
                session=session,
                consult=consult,
                kind=ConsultEventKind.ADMIT,
                member=member,
                actor=caller.principal,
            )
    await _replace_earlier(server, room, member)
    await server.rooms.put(room, member, expires_at=room_pass.closes_at + STATE_GRACE)
    connection.member, connection.room_pass = member, room_pass
    server.register(connection)
    servers, expires_at = ice_servers(settings=server.settings, user_key=member.key, now=utc_now())
    public = member.public()
    connection.send(
        dump(
            JoinedEvent(
                room=room,
                participant=public,
                ice_servers=servers,
                ice_expires_at=expires_at,
                closes_at=room_pass.closes_at,
            )
        )
    )
    delay_s = (room_pass.closes_at - utc_now()).total_seconds()
    connection.close_at(delay_s, dump(EndedEvent(reason="closed")), CLOSE_ENDED)
    if member.status == "admitted":
        await _announce_admitted(server, room, member)
    await _update_waiting(server, room)


async def admit(server: ConsultServer, connection: ConsultConnection, target_id: uuid.UUID) -> None:
    """Clinician: lets a waiting participant in; the first admission starts the consultation."""
    clinician = _require_clinician(connection)
    room = _room(connection)
    target = await server.rooms.get(room, target_id)
    if target is None or target.status != "waiting":
        raise ProtocolError("not-waiting", "No one with this id is in the waiting room.")
    async with server.unit_of_work() as session:
        consult = await records.open_session(
            session=session, room=room, patient_id=_pass(connection).patient_id
        )
        assert clinician.caller.principal is not None
        await records.start_consultation(
            session=session, consult=consult, clinician=clinician.caller.principal
        )
        await records.record_event(
            session=session,
            consult=consult,
            kind=ConsultEventKind.ADMIT,
            member=target,
            actor=clinician.caller.principal,
        )
    admitted = target.admitted()
    await server.rooms.put(room, admitted, expires_at=_pass(connection).closes_at + STATE_GRACE)
    await _announce_admitted(server, room, admitted)
    await _update_waiting(server, room)


async def remove(
    server: ConsultServer, connection: ConsultConnection, target_id: uuid.UUID, reason: str | None
) -> None:
    """Clinician: removes someone; a guest's invitation is spent with it."""
    clinician = _require_clinician(connection)
    room = _room(connection)
    target = await server.rooms.get(room, target_id)
    if target is None or target.id == clinician.member_id:
        raise ProtocolError("not-in-room", "No one else with this id is in the room.")
    async with server.unit_of_work() as session:
        consult = await records.open_session(
            session=session, room=room, patient_id=_pass(connection).patient_id
        )
        if target.invitation_id is not None:
            await session.execute(
                update(ConsultInvitation)
                .where(ConsultInvitation.id == target.invitation_id)
                .values(revoked_at=utc_now())
            )
        await records.record_event(
            session=session,
            consult=consult,
            kind=ConsultEventKind.REMOVE,
            member=target,
            actor=clinician.caller.principal,
        )
    if await server.rooms.remove(room, target.id):
        await server.deliver(target, dump(RemovedEvent(reason=reason)), close=CLOSE_REMOVED)
        await _announce_left(server, room, target, "removed")


async def leave(server: ConsultServer, connection: ConsultConnection, *, reason: str = "left") -> None:
    """The participant leaves (or was disconnected); the others are told."""
    member, room_pass = connection.member, connection.room_pass
    if member is None or room_pass is None:
        return
    connection.member, connection.room_pass = None, None
    connection.cancel_timer()
    server.unregister(member.id)
    if not await server.rooms.remove(room_pass.room, member.id):
        return  # removed, replaced or ended meanwhile: already announced
    async with server.unit_of_work() as session:
        consult = await records.open_session(
            session=session, room=room_pass.room, patient_id=room_pass.patient_id
        )
        await records.record_event(
            session=session,
            consult=consult,
            kind=ConsultEventKind.LEAVE,
            member=member,
            actor=connection.caller.principal,
        )
    await _announce_left(server, room_pass.room, member, reason)


async def end(server: ConsultServer, connection: ConsultConnection) -> None:
    """Clinician: ends the consultation for everyone and closes the room."""
    clinician = _require_clinician(connection)
    room, room_pass = _room(connection), _pass(connection)
    assert clinician.caller.principal is not None and connection.member is not None
    async with server.unit_of_work() as session:
        consult = await records.open_session(session=session, room=room, patient_id=room_pass.patient_id)
        await records.end_consultation(session=session, consult=consult, clinician=clinician.caller.principal)
        await records.record_event(
            session=session,
            consult=consult,
            kind=ConsultEventKind.END,
            member=connection.member,
            actor=clinician.caller.principal,
        )
    members = await server.rooms.members(room)
    await server.rooms.clear(room)
    await server.deliver_all(members, dump(EndedEvent(reason="ended")), close=CLOSE_ENDED)


class _Clinician:
    def __init__(self, connection: ConsultConnection) -> None:
        self.caller = connection.caller
        assert connection.member is not None
        self.member_id = connection.member.id


def _require_clinician(connection: ConsultConnection) -> _Clinician:
    if connection.member is None:
        raise ProtocolError("not-joined", "Join a room first.")
    if connection.member.role != "clinician":
        raise ProtocolError("forbidden", "Only the appointment's clinician may do this.")
    return _Clinician(connection)


def _room(connection: ConsultConnection) -> uuid.UUID:
    if connection.room is None:
        raise ProtocolError("not-joined", "Join a room first.")
    return connection.room


def _pass(connection: ConsultConnection) -> rooms.RoomPass:
    if connection.room_pass is None:
        raise NotFound("Join a room first.")
    return connection.room_pass


async def _replace_earlier(server: ConsultServer, room: uuid.UUID, member: Member) -> None:
    # One connection per person: a reconnect (a new network, a reloaded page) replaces the old one.
    for earlier in await server.rooms.members(room):
        if earlier.key == member.key and await server.rooms.remove(room, earlier.id):
            event = ErrorEvent(code="replaced", detail="You joined this room from another connection.")
            await server.deliver(earlier, dump(event), close=CLOSE_REPLACED)
            await _announce_left(server, room, earlier, "disconnected")


async def _announce_admitted(server: ConsultServer, room: uuid.UUID, member: Member) -> None:
    peers = [m for m in await server.rooms.members(room) if m.status == "admitted" and m.id != member.id]
    # The newcomer offers and is the polite side of each pair (it yields on glare).
    await server.deliver(member, dump(AdmittedEvent(peers=[p.public(polite=True) for p in peers])))
    await server.deliver_all(peers, dump(PeerJoinedEvent(participant=member.public(polite=False))))


async def _announce_left(server: ConsultServer, room: uuid.UUID, member: Member, reason: str) -> None:
    if member.status == "admitted":
        others = [m for m in await server.rooms.members(room) if m.status == "admitted"]
        event = PeerLeftEvent(participant=member.id, reason=reason)
        await server.deliver_all(others, dump(event))
    else:
        await _update_waiting(server, room)


async def _update_waiting(server: ConsultServer, room: uuid.UUID) -> None:
    members = await server.rooms.members(room)
    waiting = [m.public() for m in members if m.status == "waiting"]
    clinicians = [m for m in members if m.role == "clinician"]
    await server.deliver_all(clinicians, dump(WaitingEvent(waiting=waiting)))
