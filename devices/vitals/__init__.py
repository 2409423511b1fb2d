"""The vitals store: one narrow time-partitioned table of readings, one-minute rollups, the queries
behind charts and dashboards, and the FHIR Observation mapping of a reading.

Storage by dialect (all of it in `partitions`): a TimescaleDB hypertable with compression and
retention policies when the extension is there; native PostgreSQL range partitions (daily, created
ahead, dropped by retention) when it is not; a plain table on SQLite in the embedded mode.
"""
