"""Medical records: documents (PDF, images) uploaded to a patient's record, stored outside the database.

The database holds the metadata and the SHA-256 of each file; the bytes live in a `DocumentStorage`
(the filesystem under the data directory by default), named by random keys.
"""
