"""`python -m bench.api.bare PORT [--reuse-port]`: the baseline, a bare FastAPI app with one JSON route.

Same server as `ownat api` (uvicorn, its default event loop and HTTP parser, no access log): the
floor of what a request costs in this stack, without middleware, database, Redis or audit.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

from ownat.processes.api import reusable_socket


def create_bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--reuse-port", action="store_true")
    args = parser.parse_args()
    config = uvicorn.Config(
        create_bare_app(), host="127.0.0.1", port=args.port, log_config=None, access_log=False
    )
    sockets = [reusable_socket("127.0.0.1", args.port)] if args.reuse_port else None
    uvicorn.Server(config).run(sockets=sockets)
