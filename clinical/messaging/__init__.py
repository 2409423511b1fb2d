"""Secure messages between a patient and a care team (a department): threads, replies, attachments
(stored as documents of the patient's record), read markers and the staff's triage inbox.

`service` is the front door: other packages use its functions and the schemas in `schemas`.
"""
