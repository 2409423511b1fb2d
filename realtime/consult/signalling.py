"""One consult socket's life: authenticate, then serve the room protocol until either side closes."""

from __future__ import annotations

import asyncio
import logging
import time

from core.errors import DomainError
from realtime.consult import membership, records
from realtime.consult.connection import ConsultConnection
from realtime.consult.identity import CallerSignIn, authenticate, same_caller
from realtime.consult.protocol import (
    AdmitMessage,
    AnswerMessage,
    ChatEvent,
    ChatMessage,
    ClientMessage,
    EndMessage,
    ErrorEvent,
    IceMessage,
    JoinMessage,
    LeaveMessage,
    MediaMessage,
    OfferMessage,
    PeerMediaEvent,
    PingMessage,
    PongMessage,
    ReadyEvent,
    RelayedAnswer,
    RelayedIce,
    RelayedOffer,
    RemoveMessage,
    dump,
    parse_client_message,
)
from realtime.consult.server import ConsultServer
from realtime.socket_signin import (
    CLOSE_NOT_AUTHENTICATED,
    CLOSE_TOKEN_EXPIRED,
    EXPIRED_CLOSE_REASON,
    RenewalRefused,
    TokenDeadline,
    receive_sign_in,
    renew_sign_in,
)
from realtime.socket_wire import CLOSE_TRY_AGAIN_LATER, AuthMessage, ProtocolError, Transport, close_quietly

log = logging.getLogger(__name__)

CLOSE_INTERNAL_ERROR = 1011
RELAY_WAIT_S = 10.0
# A browser trickles a few dozen candidates at call setup and renegotiates rarely; chat is typed.
MESSAGES_PER_S = 20.0
MESSAGE_BURST = 200.0


async def serve_connection(server: ConsultServer, transport: Transport) -> None:
    """Serves an accepted WebSocket until it closes; the first message must authenticate it."""
    if not await server.ready(RELAY_WAIT_S):
        # Without the relay a participant here would not hear from peers on other instances.
        await close_quietly(transport, CLOSE_TRY_AGAIN_LATER, "signalling is starting or the bus is down")
        return
    signed_in = await receive_sign_in(
        transport, parse=parse_client_message, authenticate=lambda token: _sign_in(server, token)
    )
    if signed_in is None:
        return
    connection = ConsultConnection(
        transport=transport, caller=signed_in.caller, deadline=TokenDeadline(signed_in.expires_at)
    )
    connection.send(_ready(signed_in))
    server.signed_in.add(connection)
    tasks = [
        asyncio.create_task(connection.run_writer()),
        asyncio.create_task(_read(server, connection)),
        asyncio.create_task(_close_at_expiry(connection)),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = None if task.cancelled() else task.exception()
            if isinstance(error, ConnectionError):
                log.debug("consult client went away mid-send")
            elif error is not None:
                # A bug, or a database or Redis failure: this connection is over, and says so.
                log.warning("consult socket ended", exc_info=error)
                connection.close_code = connection.close_code or CLOSE_INTERNAL_ERROR
    finally:
        server.signed_in.discard(connection)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Shielded: the room must hear that this participant is gone even if we are being cancelled.
        await asyncio.shield(membership.leave(server, connection, reason="disconnected"))
    if connection.close_code is not None:
        await close_quietly(transport, connection.close_code, connection.close_reason)


def _ready(signed_in: CallerSignIn, *, renewed: bool = False) -> dict[str, object]:
    caller = signed_in.caller
    display = caller.guest.display_name if caller.guest else ""
    ready = ReadyEvent(
        role=caller.role_label, display_name=display, expires_at=signed_in.expires_at, renewed=renewed
    )
    return dump(ready)


async def _close_at_expiry(connection: ConsultConnection) -> None:
    """Closes the socket when its token expires without a renewal (after what is queued is sent)."""
    await connection.deadline.passed()
    connection.close(CLOSE_TOKEN_EXPIRED, EXPIRED_CLOSE_REASON)
    # Ending this task now would stop the writer before it drained the queue.
    await connection.closed.wait()


async def _sign_in(server: ConsultServer, token: str) -> CallerSignIn:
    return await authenticate(token, settings=server.settings, revocations=server.revocations)


class _MessageBudget:
    """A token bucket per socket: trickled ICE comes in bursts, a flood is refused, not relayed."""

    def __init__(self, rate_per_s: float = MESSAGES_PER_S, burst: float = MESSAGE_BURST) -> None:
        self.rate_per_s, self.burst = rate_per_s, burst
        self.tokens, self.at = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate_per_s)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


async def _read(server: ConsultServer, connection: ConsultConnection) -> None:
    budget = _MessageBudget()
    while not connection.closed.is_set():
        text = await connection.transport.receive_text()
        if text is None:
            return
        if not budget.take():
            connection.send(dump(ErrorEvent(code="rate-limited", detail="Too many messages; slow down.")))
            continue
        ref = None
        try:
            message = parse_client_message(text)
            ref = message.type
            await _handle(server, connection, message)
        except ProtocolError as error:
            connection.send(dump(ErrorEvent(code=error.code, detail=error.detail, ref=ref or error.ref)))
        except DomainError as error:
            retry_at = error.extra.get("opens_at")
            event = ErrorEvent(code=error.code, detail=error.detail, ref=ref, retry_at=retry_at)
            connection.send(dump(event))


async def _handle(server: ConsultServer, connection: ConsultConnection, message: ClientMessage) -> None:
    match message:
        case OfferMessage() | AnswerMessage() | IceMessage():
            await _relay(server, connection, message)
        case ChatMessage():
            await _chat(server, connection, message)
        case MediaMessage():
            await _media(server, connection, message)
        case JoinMessage():
            await membership.join(server, connection, message.room)
        case AdmitMessage():
            await membership.admit(server, connection, message.participant)
        case RemoveMessage():
            await membership.remove(server, connection, message.participant, message.reason)
        case EndMessage():
            await membership.end(server, connection)
        case LeaveMessage():
            await membership.leave(server, connection)
        case PingMessage():
            connection.send({"type": "pong", "seq": message.seq})
        case PongMessage():
            pass
        case AuthMessage():
            await _renew(server, connection, message)


async def _renew(server: ConsultServer, connection: ConsultConnection, message: AuthMessage) -> None:
    """A fresh token on the open socket, checked like the first; refused, the socket closes (4401)."""
    try:
        signed_in = await renew_sign_in(
            message.token,
            authenticate=lambda token: _sign_in(server, token),
            keeps_caller=lambda fresh: same_caller(connection.caller, fresh.caller),
        )
    except RenewalRefused as refusal:
        connection.close(CLOSE_NOT_AUTHENTICATED, refusal.detail[:120])
        return
    connection.renew(signed_in.caller, signed_in.expires_at)
    connection.send(_ready(signed_in, renewed=True))


def _require_admitted(connection: ConsultConnection) -> None:
    if connection.member is None:
        raise ProtocolError("not-joined", "Join a room first.")
    if connection.member.status != "admitted":
        raise ProtocolError("not-admitted", "Wait until the clinician admits you.")


async def _relay(
    server: ConsultServer, connection: ConsultConnection, message: OfferMessage | AnswerMessage | IceMessage
) -> None:
    _require_admitted(connection)
    assert connection.member is not None and connection.room is not None
    target = await server.rooms.get(connection.room, message.to)
    if target is None or target.status != "admitted" or target.id == connection.member.id:
        raise ProtocolError("unknown-peer", "No other admitted participant with this id is in your room.")
    sender = connection.member.id
    match message:
        case OfferMessage():
            event = dump(RelayedOffer(sender=sender, sdp=message.sdp, purpose=message.purpose))
        case AnswerMessage():
            event = dump(RelayedAnswer(sender=sender, sdp=message.sdp))
        case IceMessage():
            event = dump(RelayedIce(sender=sender, candidate=message.candidate))
    await server.deliver(target, event)


async def _chat(server: ConsultServer, connection: ConsultConnection, message: ChatMessage) -> None:
    _require_admitted(connection)
    member, room_pass = connection.member, connection.room_pass
    assert member is not None and room_pass is not None
    async with server.unit_of_work() as session:
        consult = await records.open_session(
            session=session, room=room_pass.room, patient_id=room_pass.patient_id
        )
        line = await records.store_chat(
            session=session,
            consult=consult,
            member=member,
            actor=connection.caller.principal,
            text=message.text,
        )
    event = ChatEvent(
        id=line.id,
        sender=member.id,
        display_name=member.display_name,
        text=line.text,
        sent_at=line.sent_at,
        client_id=message.client_id,
    )
    admitted = [m for m in await server.rooms.members(room_pass.room) if m.status == "admitted"]
    await server.deliver_all(admitted, dump(event))


async def _media(server: ConsultServer, connection: ConsultConnection, message: MediaMessage) -> None:
    # Relayed only: the media themselves say nothing when a camera is off or a microphone muted.
    _require_admitted(connection)
    assert connection.member is not None and connection.room is not None
    sender = connection.member.id
    others = [
        m for m in await server.rooms.members(connection.room) if m.status == "admitted" and m.id != sender
    ]
    event = PeerMediaEvent(sender=sender, audio=message.audio, video=message.video)
    await server.deliver_all(others, dump(event))
