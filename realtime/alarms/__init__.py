"""Alarm rules: per-patient thresholds, NEWS2 early-warning scores and technical alarms."""
