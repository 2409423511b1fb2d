"""`python -m bench.fanout.traced <ownat command> [args]`: an `ownat` process with tracing set up first.

`core.tracing.configure` reads OWNAT_OTLP_ENDPOINT and OWNAT_TRACE_SAMPLE_RATIO; the benchmark runs
the ingest worker and the api through this when `--tracing` is given, so that the overhead is
measured whether or not the process's own entry point sets tracing up.
"""

from __future__ import annotations

import sys

from core import tracing
from core.settings import load_settings
from ownat.cli import main

if __name__ == "__main__":
    tracing.configure(load_settings(), process=sys.argv[1])
    sys.exit(main(sys.argv[1:]))
