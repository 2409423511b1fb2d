"""The periodic jobs of other domains that `ownat worker` runs between its notification passes.

One list for both processes that run the worker loop: `ownat worker` (`ownat.processes.worker`) and
`ownat dev` (`ownat.embedded`, which starts the alarm checks apart). The notification worker only
schedules what it is handed, so `notifications` depends on none of these domains (appointment
reminders included: scheduling writes them to the outbox, the worker then delivers them).
"""

from __future__ import annotations

from dataclasses import dataclass

from billing.payments import run_payment_expiry
from clinical.fhir import ExportRunner
from clinical.scheduling import run_appointment_reminders
from core.periodic import PeriodicJob
from realtime.alarms import periodic_checks_job, send_alarm_reports
from realtime.consult import run_room_closing
from realtime.subscriptions import SubscriptionJobs


@dataclass(slots=True)
class JobIntervals:
    """Seconds between the runs of each job."""

    alarm_checks_s: float = 5.0
    # Payments expire after half an hour (OWNAT_PAYMENT_PENDING_EXPIRY_S): a minute late is soon enough.
    payment_expiry_s: float = 60.0
    # Rooms close an hour after the scheduled end (OWNAT_CONSULT_CLOSES_AFTER_S): a minute late is soon enough.
    room_closing_s: float = 60.0
    pcd04_s: float = 1.0
    # FHIR subscriptions: appointments and lab results from the outbox, rest-hook deliveries.
    fhir_subscriptions_s: float = 1.0
    # Bulk Data exports: a queued export starts within this long.
    fhir_exports_s: float = 2.0
    # Reminders are due 24 hours and 1 hour before a visit: a minute late is soon enough.
    appointment_reminders_s: float = 60.0


def periodic_jobs(intervals: JobIntervals | None = None, *, alarm_checks: bool = True) -> list[PeriodicJob]:
    """The jobs in the order they run; each holds its own clients, released when the worker closes."""
    every = intervals or JobIntervals()
    subscriptions, exports = SubscriptionJobs(), ExportRunner()
    jobs = [
        PeriodicJob("payment expiry", every.payment_expiry_s, run_payment_expiry),
        PeriodicJob("room closing", every.room_closing_s, run_room_closing),
        # Retried every pass until the alarm manager answers: its own pace, not the mail's.
        PeriodicJob("alarms to the alarm manager (PCD-04)", every.pcd04_s, send_alarm_reports),
        PeriodicJob(
            "fhir subscriptions", every.fhir_subscriptions_s, subscriptions, close=subscriptions.close
        ),
        PeriodicJob("fhir exports", every.fhir_exports_s, exports, close=exports.close),
        # Last: what it writes to the outbox is fanned out in the same pass, right after the jobs.
        PeriodicJob("appointment reminders", every.appointment_reminders_s, run_appointment_reminders),
    ]
    if alarm_checks:
        jobs.insert(0, periodic_checks_job(every.alarm_checks_s))
    return jobs
