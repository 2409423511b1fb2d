"""`ownat worker`: the platform's background work; this is the one description of what it does.

Every pass (`notifications.NotificationWorker`, with the jobs of `ownat.worker_jobs` scheduled by
`core.periodic`):
- notifications: fans the outbox out to people and systems, delivers what is due (in-app, email,
  SMS, webhooks) and, on a slow beat, purges what retention lets go (`notifications`);
- scheduling: writes the appointment reminders that have come due to the outbox
  (`clinical.scheduling.reminders`);
- alarms: the periodic checks, silent devices and overdue escalation (`realtime.alarms.jobs`), and
  alarm changes sent to the alarm manager as IHE PCD-04 (`realtime.alarms.pcd04`);
- billing: settles card payments nobody finished (`billing.payments.expiry`);
- consultations: finishes those whose room closed without "end" (`realtime.consult.closing`);
- FHIR: subscriptions (the outbox feed, rest-hook deliveries) and Bulk Data exports
  (`realtime.subscriptions`, `clinical.fhir.bulk`).
Beside the passes, the audit sequencer seals the audit log (`core.audit.sequencer`). Work is claimed
with `FOR UPDATE SKIP LOCKED`, so any number of workers run side by side. `ownat dev` runs the same
loop on its own resources (see `ownat.embedded`), with the alarm checks started after its demo feed.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ownat.processes.metrics_endpoint import add_metrics_arguments, serve_metrics

if TYPE_CHECKING:  # annotations only: `ownat.cli` loads this module whatever is installed
    from core.settings import Settings
    from notifications import NotificationSettings, WorkerIntervals
    from ownat.worker_jobs import JobIntervals


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
    add_metrics_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Runs the worker until SIGTERM or SIGINT; returns the process exit status."""
    import asyncio

    from core import tracing
    from core.logging import configure_logging
    from core.settings import load_settings
    from notifications import WorkerIntervals, load_notification_settings
    from ownat.worker_jobs import JobIntervals

    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    tracing.configure(settings, process="worker")  # before anything traced is built
    intervals = WorkerIntervals(poll_s=args.poll_interval)
    job_intervals = JobIntervals(
        alarm_checks_s=args.alarm_check_interval or settings.alarm_check_interval_s,
        appointment_reminders_s=args.reminder_interval,
    )
    asyncio.run(
        _serve(
            settings,
            load_notification_settings(),
            intervals=intervals,
            job_intervals=job_intervals,
            metrics_port=args.metrics_port,
            metrics_host=args.metrics_host,
        )
    )
    return 0


async def _serve(
    settings: Settings,
    notification_settings: NotificationSettings,
    *,
    intervals: WorkerIntervals,
    job_intervals: JobIntervals,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Runs the worker until SIGTERM or SIGINT; the pass in progress finishes first."""
    import asyncio
    import logging
    import signal

    from prometheus_client import CollectorRegistry

    from core.audit import run_sequencer
    from core.resources import Resources
    from notifications import NotificationWorker
    from ownat.worker_jobs import periodic_jobs

    log = logging.getLogger(__name__)
    resources = Resources.open(settings)
    worker = NotificationWorker(
        resources=resources,
        settings=notification_settings,
        intervals=intervals,
        jobs=periodic_jobs(job_intervals),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    registry = CollectorRegistry()
    worker.senders.metrics.register(registry)
    stop_metrics = serve_metrics(registry, port=metrics_port, host=metrics_host)
    # The audit sequencer beside the loop, not in it: a slow delivery must not hold sealing back.
    sequencer = asyncio.create_task(
        run_sequencer(
            sessions=resources.sessions,
            keys=resources.audit_keys,
            interval_s=settings.audit_seal_interval_s,
            stop=stop,
        ),
        name="audit-sequencer",
    )
    log.info("notification worker started")
    try:
        await worker.run(stop)
    finally:
        stop.set()
        await sequencer
        stop_metrics()
        await worker.close()
        await resources.close()
        log.info("notification worker stopped")
