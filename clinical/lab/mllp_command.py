"""`ownat mllp`: receive HL7 v2 lab results over MLLP (being built).

Imports only the standard library at module level: the `ownat` command loads this module to
build its argument parser, whatever is installed.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares this command's options."""


def run(args: argparse.Namespace) -> int:
    """Runs the command; returns the process exit status."""
    raise SystemExit("ownat mllp is not built yet")
