"""`python -m bench.api [--code DIR] [--concurrency 1 16 64] [--instances 1 2] [--seconds 5]`

Starts real `ownat api` instances (one, then two sharing one port with SO_REUSEPORT; older code
without it gets a port each, which the load processes share out) and `ownat worker` on a scratch
PostgreSQL database seeded with the demo hospital and the machine's Redis, and drives authenticated
requests at each concurrency, with `/healthz` of the same instances and a bare FastAPI app as
same-run baselines. `--code /work/main` runs another checkout's api (the load, the baseline and the
report stay this one's), for before-and-after figures on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench.api.measure import measure
from bench.api.report import print_header, print_table
from bench.api.requests import Endpoint, bare_endpoint, build_endpoints
from bench.api.stack import Checkout, api_instances, audit_report, bare_instances, scratch, worker


async def main(args: argparse.Namespace, checkout: Checkout, log_dir: Path) -> None:
    print_header(checkout.path, log_dir, args)
    async with scratch(checkout, log_dir) as db, worker(checkout, db.env, log_dir):
        endpoints: list[Endpoint] = []
        booking_runs = len(args.instances) * len(args.concurrency)
        for run, count in enumerate(args.instances):
            async with (
                api_instances(checkout, db.env, count, log_dir) as api,
                bare_instances(count, log_dir) as bare,
            ):
                endpoints = endpoints or await build_endpoints(api.ports[0], args.bookings)
                rows = []
                for endpoint in [bare_endpoint(), *endpoints]:
                    if args.endpoints and endpoint.name not in args.endpoints and not endpoint.baseline:
                        continue
                    servers = bare if endpoint.name == "bare FastAPI" else api
                    for step, connections in enumerate(args.concurrency):
                        requests = endpoint.requests
                        if endpoint.once_each:  # bookings: slots of their own for every measurement
                            share = len(requests) // booking_runs
                            start = (run * len(args.concurrency) + step) * share
                            requests = requests[start : start + share]
                        rows.append(await measure(
                            endpoint, requests, ports=servers.ports, connections=connections,
                            seconds=args.seconds, warmup_s=args.warmup, server_pids=servers.pids,
                        ))  # fmt: skip
                print_table(count, rows)
        print("\naudit log after the run (`ownat audit-verify` of the code under test):")
        print(audit_report(checkout, db.env))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", default=".", help="checkout whose `ownat api` runs (default: this one)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64], help="connections")
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2], help="api instances")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per figure")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each")
    parser.add_argument("--bookings", type=int, default=20_000, help="free slots to find for bookings")
    parser.add_argument("--endpoints", nargs="*", help="only these endpoints (baselines always run)")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    asyncio.run(
        main(arguments, Checkout(Path(arguments.code).resolve()), Path(tempfile.mkdtemp(prefix="bench-api-")))
    )
