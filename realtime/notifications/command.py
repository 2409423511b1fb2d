"""`ownat worker`: the notifications outbox, reminders, the alarms' periodic checks and abandoned
card payments.

Imports only the standard library at module level: the `ownat` command loads this module to
build its argument parser, whatever is installed.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares this command's options."""
    parser.add_argument(
        "--poll-interval", type=float, default=1.0, help="seconds between passes (default: %(default)s)"
    )
    parser.add_argument(
        "--reminder-interval",
        type=float,
        default=60.0,
        help="seconds between looks for due appointment reminders (default: %(default)s)",
    )
    parser.add_argument(
        "--alarm-check-interval",
        type=float,
        default=None,
        help="seconds between silent-device and escalation checks (default: OWNAT_ALARM_CHECK_INTERVAL_S)",
    )
    parser.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port")
    parser.add_argument("--metrics-host", default="127.0.0.1", help="address of the metrics endpoint")


def run(args: argparse.Namespace) -> int:
    """Runs the command; returns the process exit status."""
    import asyncio

    from core.logging import configure_logging
    from core.settings import load_settings
    from realtime.notifications.runner import run_worker
    from realtime.notifications.settings import load_notification_settings
    from realtime.notifications.worker import WorkerIntervals

    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    intervals = WorkerIntervals(
        poll_s=args.poll_interval,
        reminders_s=args.reminder_interval,
        alarm_checks_s=args.alarm_check_interval or settings.alarm_check_interval_s,
    )
    asyncio.run(
        run_worker(
            settings,
            load_notification_settings(),
            intervals=intervals,
            metrics_port=args.metrics_port,
            metrics_host=args.metrics_host,
        )
    )
    return 0
