"""Schedules and appointments: working hours, exceptions, free slots, booking and the visit's life cycle.

The appointment state machine is documented in `state_machine`; double booking is refused by the
database itself on PostgreSQL (exclusion constraints, see `models` and `overlap`).
"""
