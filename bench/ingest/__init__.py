"""`python -m bench.ingest`: simulated monitors -> the machine's Mosquitto -> `ownat ingest` -> PostgreSQL.

Prints sustained vital values per second, publish-to-commit latency (p50, p99), and in the same run
two baselines on the same readings: row-by-row INSERT with a commit each, and a bare COPY.
"""
