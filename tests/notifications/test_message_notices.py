"""A new message tells the other side in the app and by email, never with what the message says."""

from __future__ import annotations

from core.outbox import EventType
from core.principal import Role
from notifications.models import Channel
from tests.clinical.messaging_builders import THREADS, care_team, start
from tests.clinical.scheduling_builders import account
from tests.notifications.builders import notification_settings, notifications_of, worker
from tests.notifications.servers import smtp_server

SECRET_WORDS = "It runs out on Friday."


async def test_the_care_team_and_then_the_patient_are_told_without_the_words(
    client, sessions, settings, resources
) -> None:
    team = await care_team(sessions, settings)
    patient, headers = await account(sessions, settings, Role.PATIENT)
    thread = (await start(client, headers, team.department_id)).json()
    reply = {"body": "Your prescription is renewed."}
    async with smtp_server() as (smtp_port, mailbox):
        the_worker = worker(resources, notification_settings(smtp_host="127.0.0.1", smtp_port=smtp_port))
        try:
            await the_worker.run_once()
            await client.post(f"{THREADS}/{thread['id']}/messages", data=reply, headers=team.nurse_headers)
            await the_worker.run_once()
        finally:
            await the_worker.close()
    to_nurse = await notifications_of(sessions, user_id=team.nurse.id, event_type=EventType.MESSAGE_RECEIVED)
    to_patient = await notifications_of(sessions, user_id=patient.id, event_type=EventType.MESSAGE_RECEIVED)
    assert {row.channel for row in to_nurse} == {Channel.IN_APP, Channel.EMAIL}
    assert {row.channel for row in to_patient} == {Channel.IN_APP, Channel.EMAIL}
    assert thread["department_name"] in to_nurse[0].title
    assert "https://ownat.example/staff/messages/" in to_nurse[0].body
    mails = [mail for rcpt, mail in mailbox.messages if rcpt in ([patient.email], [team.nurse.email])]
    assert len(mails) == 2
    for mail in mails:
        text = mail.get_content()
        assert SECRET_WORDS not in text and reply["body"] not in text and "My inhaler" not in text
    patient_mail = next(mail for rcpt, mail in mailbox.messages if rcpt == [patient.email])
    assert patient_mail["Subject"] == "New message from your care team"
    assert "https://ownat.example/portal/#messages" in patient_mail.get_content()
