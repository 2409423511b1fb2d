"""Notifications: outbox events fanned out to people (in-app, email, SMS) and systems (webhooks).

`ownat worker` claims outbox events and due deliveries with `FOR UPDATE SKIP LOCKED`, so any number
of workers run side by side; the embedded mode runs the same loop inside `ownat dev`.
"""
