"""Process entry points: the `ownat` command and the embedded single-process platform.

This is the composition root, the one package allowed to import every other, so that the
domain packages and `core` never need to know how processes are assembled.
"""
