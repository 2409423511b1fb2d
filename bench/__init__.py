"""Benchmarks: one command each (`python -m bench.<name>`), printing figures and same-run baselines."""
