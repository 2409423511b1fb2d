"""A patient's rights over their data: the whole record as a download (FHIR and PDF), who opened it
(from the audit log), and requests for access, correction and erasure that an administrator handles,
keeping what medical-records law requires and restricting it instead of erasing it.

`service` is the front door for requests, `exports` for downloads, `access_log` for who opened a record.
"""
