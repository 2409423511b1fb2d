"""Secure messages between a patient and a care team (a department): threads, replies, attachments
(stored as documents of the patient's record), read markers and the staff's triage inbox.

This module is the front door: other packages import the thread and message services and the
schemas below from here.
"""

# ORM models, exposed for joins: a privacy export includes the patient's threads and messages.
from clinical.messaging.models import Message, MessageThread, ThreadStatus
from clinical.messaging.reads import care_teams, department_inboxes, get_thread, list_threads, unread_count
from clinical.messaging.schemas import (
    CareTeam,
    DepartmentInbox,
    IncomingFile,
    MessageForm,
    MessageRead,
    ThreadDetail,
    ThreadStart,
    ThreadSummary,
    UnreadCount,
)
from clinical.messaging.service import close_thread, mark_read, post_message, start_thread

__all__ = [
    "CareTeam",
    "DepartmentInbox",
    "IncomingFile",
    "Message",
    "MessageForm",
    "MessageRead",
    "MessageThread",
    "ThreadDetail",
    "ThreadStart",
    "ThreadStatus",
    "ThreadSummary",
    "UnreadCount",
    "care_teams",
    "close_thread",
    "department_inboxes",
    "get_thread",
    "list_threads",
    "mark_read",
    "post_message",
    "start_thread",
    "unread_count",
]
