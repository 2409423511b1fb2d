"""`python -m bench.alarms`: a simulated ward replayed through the alarm policy, against the old one."""
