"""The long-running processes of `ownat`, one module each, composed from the domains' public parts.

Every module offers `add_arguments(parser)` and `run(args)` (the exit status), and imports only the
standard library at module level: `ownat.cli` loads them all to build its parser, and the edge
agent's install has none of the server's dependencies.
"""
