"""Notifications: outbox events fanned out to people (in-app, email, SMS) and systems (webhooks).

`ownat worker` runs this package's loop (`worker`), which also drives other domains' periodic jobs:
see `ownat.processes.worker` for everything it does. Outbox events and due deliveries are claimed
with `FOR UPDATE SKIP LOCKED`, so any number of workers run side by side; `ownat dev` runs the same loop.
"""
