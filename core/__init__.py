"""Ownat's shared kernel: settings, database, bus, identity, audit and the error model.

Every other package may import from here; this package imports none of them.
"""
