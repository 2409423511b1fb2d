"""The broker's memory and its routing: sessions by client id, retained messages, who gets what."""

from __future__ import annotations

import secrets
from collections import defaultdict

from devices.broker.packets import SUBACK_FAILURE
from devices.broker.sessions import Message, Session
from devices.broker.topics import is_valid_filter, split_shared, topic_matches

# The embedded broker never sends QoS 2; a QoS 2 subscription is granted QoS 1 (spec 3.8.4 allows it).
MAX_GRANTED_QOS = 1


class MessageRouter:
    """Sessions, subscriptions and retained messages of one running broker; everything is in memory."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._retained: dict[str, Message] = {}
        # Turn counter per (group, filter) of a shared subscription, for round-robin delivery.
        self._share_turns: defaultdict[tuple[str, str], int] = defaultdict(int)

    def open_session(self, client_id: str, *, clean: bool) -> tuple[Session, bool]:
        """The session for a new connection and whether it resumes an earlier one (session present)."""
        if not client_id:
            client_id = f"ownat-auto-{secrets.token_hex(8)}"
        existing = self._sessions.get(client_id)
        if existing is not None:
            existing.kick()
            if not clean and not existing.clean:
                return existing, True
        session = Session(client_id, clean=clean)
        self._sessions[client_id] = session
        return session, False

    def close_session(self, session: Session) -> None:
        """The connection of `session` ended: a clean session is forgotten, a persistent one waits."""
        if session.clean and self._sessions.get(session.client_id) is session:
            del self._sessions[session.client_id]

    def subscribe(self, session: Session, topic_filter: str, qos: int) -> int:
        """Adds or replaces a subscription; the SUBACK return code (granted QoS or failure)."""
        if not is_valid_filter(topic_filter) or qos > 2:
            return SUBACK_FAILURE
        granted = min(qos, MAX_GRANTED_QOS)
        session.subscriptions[topic_filter] = granted
        return granted

    def unsubscribe(self, session: Session, topic_filter: str) -> None:
        session.subscriptions.pop(topic_filter, None)

    def send_retained(self, session: Session, topic_filter: str) -> None:
        """Delivers the retained messages a new subscription selects (none for a shared one)."""
        granted = session.subscriptions.get(topic_filter)
        group, plain = split_shared(topic_filter)
        if granted is None or group is not None:
            return
        for topic, message in self._retained.items():
            if topic_matches(plain, topic):
                session.deliver(Message(topic, message.payload, min(message.qos, granted), retain=True))

    def publish(self, message: Message) -> None:
        """Keeps or clears the retained copy, then hands the message to every matching subscriber."""
        if message.retain:
            if message.payload:
                self._retained[message.topic] = message
            else:
                self._retained.pop(message.topic, None)
        # A client with several matching subscriptions gets the message once, at the highest QoS.
        direct: dict[str, tuple[Session, int]] = {}
        shared: defaultdict[tuple[str, str], list[tuple[Session, int]]] = defaultdict(list)
        for session in self._sessions.values():
            for topic_filter, granted in session.subscriptions.items():
                group, plain = split_shared(topic_filter)
                if not topic_matches(plain, message.topic):
                    continue
                qos = min(granted, message.qos)
                if group is not None:
                    shared[group, plain].append((session, qos))
                elif qos >= direct.get(session.client_id, (session, -1))[1]:
                    direct[session.client_id] = (session, qos)
        targets = list(direct.values()) + [self._next_member(key, members) for key, members in shared.items()]
        for session, qos in targets:
            # Established subscribers see the retain flag cleared (spec 3.3.1.3).
            session.deliver(Message(message.topic, message.payload, qos))

    def _next_member(self, key: tuple[str, str], members: list[tuple[Session, int]]) -> tuple[Session, int]:
        """One member of a share group, taking turns, preferring members that are connected."""
        online = [member for member in members if member[0].connected] or members
        turn = self._share_turns[key]
        self._share_turns[key] = turn + 1
        return online[turn % len(online)]
