"""Users, roles, passwords, tokens and the checks every router uses to decide who may do what."""
