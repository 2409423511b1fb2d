"""The `ownat` command: the long-running processes (`ownat.processes`) and the one-off commands.

Each subcommand imports what it needs when it runs, so that the edge agent's install (without the
server's dependencies) can still start `ownat edge`."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

# The long-running processes, in `ownat --help`'s order: `ownat.processes.<name>` composes each.
PROCESSES = {
    "dev": "run the whole platform in one process on the embedded default",
    "api": "run the API server (REST, WebSocket hub, signalling, web pages)",
    "ingest": "consume device MQTT messages into the vitals store",
    "edge": "run the edge gateway near the devices (store and forward)",
    "broker-config": "write the MQTT broker's device credentials and ACL",
    "mllp": "receive HL7 v2 lab results over MLLP",
    "worker": "deliver notifications (outbox, reminders) and run the alarms' periodic checks",
}
# Listed before the one-off commands, as they always were; the other processes come after them.
SERVING_FIRST = ("dev", "api")


# The edge agent's install has no server dependencies, so it must not load the server's tables.
COMMANDS_WITHOUT_DATABASE = frozenset({"edge"})


def register_tables(command: str) -> None:
    """Registers every table before a server command runs. A worker imports only some domains'
    models (the ingest worker writes alarms, which reference users), and SQLAlchemy refuses its
    first flush when a foreign key names a table it has not seen."""
    if command not in COMMANDS_WITHOUT_DATABASE:
        importlib.import_module("ownat.model_registry")


def _migrate(args: argparse.Namespace) -> int:
    from core.settings import load_settings
    from ownat import migrate

    settings = load_settings()
    if args.downgrade:
        migrate.downgrade(settings.effective_database_url, args.downgrade)
    else:
        migrate.upgrade(settings.effective_database_url, args.revision)
    print(f"database at revision {args.downgrade or args.revision}")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from core.settings import load_settings
    from ownat.demo import print_demo_accounts, seed_demo_data

    settings = load_settings()
    if settings.environment == "production":
        print(
            "refusing to load demo data (with published passwords) into a production system", file=sys.stderr
        )
        return 2
    created = asyncio.run(seed_demo_data(settings))
    print("demo data loaded" if created else "demo data already present; nothing changed")
    print_demo_accounts()
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from ownat.operations import verify_audit_chain

    return verify_audit_chain(args.checkpoint)


def _audit_checkpoint(args: argparse.Namespace) -> int:
    from ownat.operations import export_audit_checkpoint

    return export_audit_checkpoint(args.out)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ownat", description="Ownat telehealth and device platform")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    def add_process(name: str) -> None:
        module = importlib.import_module(f"ownat.processes.{name.replace('-', '_')}")
        module.add_arguments(add(name, module.run, PROCESSES[name]))

    for name in SERVING_FIRST:
        add_process(name)
    migrate = add("migrate", _migrate, "apply database migrations")
    migrate.add_argument("--revision", default="heads", help="upgrade to this revision (default: heads)")
    migrate.add_argument("--downgrade", metavar="REVISION", help="downgrade to REVISION instead")
    add("seed", _seed, "load the demo hospital (refused in production)")
    audit_verify = add(
        "audit-verify", _audit_verify, "check the audit log's chain and report what does not verify"
    )
    audit_verify.add_argument(
        "--checkpoint",
        type=Path,
        metavar="FILE",
        help="also check that the chain still holds this saved checkpoint",
    )
    audit_checkpoint = add(
        "audit-checkpoint", _audit_checkpoint, "export a signed checkpoint of the audit chain's head"
    )
    audit_checkpoint.add_argument(
        "--out", type=Path, metavar="FILE", help="write it here instead of printing it"
    )
    for name in PROCESSES:
        if name not in SERVING_FIRST:
            add_process(name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    register_tables(args.command)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
