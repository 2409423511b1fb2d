"""Vital signs measured by staff and typed in (as opposed to those streamed by devices)."""
