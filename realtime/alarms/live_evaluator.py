"""Alarms evaluated on ingest: the ingest worker's batch observer, running as its own task.

The worker hands over each message's readings as they arrive (`observe`, on the evaluator's event
loop, returning at once; `ownat ingest` runs the evaluator on a thread of its own, see
`devices.ingest.observer_thread`), so alarms never wait for storage. The evaluator keeps only the
latest value of each metric per patient, and the latest status per device, until its next round. A
round takes everything waiting, skips the patients whose new values cannot change an alarm
(`realtime.alarms.quiet`), evaluates the rest together, the most urgent first
(`engine.evaluate_patients`: a handful of queries for the whole round), and the statuses in one
transaction, and publishes the changes once it has committed. A round starts as soon as readings
wait, unless the previous one ended less than `min_round_interval_s` ago: readings arriving
meanwhile are merged into the next one, so under load rounds grow larger instead of falling
behind, and commits and acknowledgements never wait for alarms. A value newly beyond a limit without
a condition delay does not wait for them: it is evaluated at once in a lane of its own (see
`_run_crossings`); one with a delay starts its pending condition from the reading's time whichever
round sees it, and the rounds raise it once the delay has passed. Within a round the
loop gets a turn every `yield_every_patients` patients, so that a large round (after a restart,
every patient is evaluated in full) does not hold up an ingest worker sharing the loop.

Time changes alarms too: a condition that has lasted its delay raises, and one gone for the
hysteresis ends, whether or not new readings arrive (a stable patient's readings are skipped as
quiet). So every `tick_s` a round also takes the patients with a pending condition or an open
alarm (`evaluation_reads.patients_awaiting_time`) and evaluates them with or without readings.

When the database is away the round's state is put back (newer values that arrived meanwhile
win) and the round is retried with backoff: the latest state of every patient survives the outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.bus import Bus, reconnect_delay_s
from core.db import utc_now
from core.sessions import transaction
from core.settings import Settings
from core.tasks import cancel_and_wait, stop_if_cancelled
from devices.protocol import StatusMessage
from realtime.alarms import engine
from realtime.alarms.decisions import DEFAULT_POLICY
from realtime.alarms.evaluation_reads import patients_awaiting_time
from realtime.alarms.heartbeat import Heartbeat
from realtime.alarms.news2_answers import news2_answer
from realtime.alarms.news2_pushes import News2Pushes
from realtime.alarms.observation_sets import last_full_sets
from realtime.alarms.policy import AlarmPolicy, policy_from_settings
from realtime.alarms.publishing import publish_changes, publish_news2
from realtime.alarms.quiet import QuietPatients, Urgency, changed_elsewhere
from realtime.alarms.schemas import AlarmChange

if TYPE_CHECKING:
    # A reading as the ingest worker holds it: (metric code, value, unit, time).
    from devices.ingest import DecodedReading

log = logging.getLogger(__name__)

# A score that changes within its band (a parameter's points, the total) is pushed at most this
# often per patient, as often as dashboards used to ask for it; a new band or completeness goes at
# once. Scores on a busy ward move many times a minute, and every push is a frame to each watcher.
NEWS2_PUSH_INTERVAL_S = 15.0

# How far back each round looks again for changes made elsewhere: longer than a transaction lasts.
WATERMARK_OVERLAP = timedelta(seconds=30)


class Attributed(Protocol):
    """Whose readings they are (the ingest worker's Attribution has it)."""

    @property
    def patient_id(self) -> uuid.UUID | None: ...
    @property
    def bed_id(self) -> uuid.UUID | None: ...
    @property
    def ward_id(self) -> uuid.UUID | None: ...


@dataclass(frozen=True, slots=True)
class LiveTuning:
    # The loop's own time between rounds: a round starts as soon as readings wait and this long has
    # passed since the previous one ended (a crossing without a condition delay does not wait for
    # it: see `_run_crossings`). A round costs ~2.5 ms CPU besides its patients: ten a second, ~3% of a core.
    min_round_interval_s: float = 0.1
    # Patients evaluated in full per transaction: large enough to amortise the commit, small enough
    # to hold few locks. The most urgent go first; the rest wait for the next round.
    max_patients_per_round: int = 500
    # A quiet patient is still evaluated in full about this often (see realtime.alarms.quiet).
    full_every_s: float = 600.0
    # Patients checked or evaluated between two turns of the event loop (see engine.evaluate_patients).
    yield_every_patients: int = engine.YIELD_EVERY_PATIENTS
    low_battery_pct: int = 20
    # How often pending conditions and ending alarms are looked at again with no new reading.
    tick_s: float = 2.0
    # The evaluator says it is alive at most this often, after a committed round (`heartbeat`).
    heartbeat_s: float = 5.0
    retry_base_s: float = 0.5
    retry_cap_s: float = 10.0


@dataclass(frozen=True, slots=True)
class _Latest:
    metric: str
    value: float
    time: datetime


@dataclass(slots=True)
class _PatientState:
    bed_id: uuid.UUID | None
    ward_id: uuid.UUID | None
    # metric -> (value, time): plain tuples, as this is filled on the ingest worker's hot path.
    latest: dict[str, tuple[float, datetime]] = field(default_factory=dict)

    def merge(self, metric: str, value: float, at: datetime) -> None:
        current = self.latest.get(metric)
        if current is None or current[1] <= at:
            self.latest[metric] = (value, at)

    def readings(self) -> list[_Latest]:
        return [_Latest(metric, value, at) for metric, (value, at) in self.latest.items()]


@dataclass(slots=True)
class LiveStats:
    """Counters for metrics, tests and the benchmark."""

    rounds: int = 0
    evaluated: int = 0
    quiet: int = 0
    statuses: int = 0
    changes: int = 0
    retries: int = 0
    failed_rounds: int = 0
    crossing_rounds: int = 0  # of `rounds`: the crossing lane's
    news2_pushed: int = 0  # NEWS2 answers published because what a page shows of them changed
    # CPU of the loop's thread while rounds ran: with other tasks busy, their turns count here too.
    cpu_s: float = 0.0


class LiveAlarmEvaluator:
    """Coalesces readings and statuses per patient and device; `run` evaluates them in rounds."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        bus: Bus,
        tuning: LiveTuning | None = None,
        policy: AlarmPolicy = DEFAULT_POLICY,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self.tuning = tuning or LiveTuning()
        self.policy = policy
        self._next_tick_s = time.monotonic() + self.tuning.tick_s
        self._patients: dict[uuid.UUID, _PatientState] = {}
        self._statuses: dict[str, StatusMessage] = {}
        self._quiet = QuietPatients(full_every_s=self.tuning.full_every_s)
        # Changes made elsewhere are looked for from here on (see `changed_elsewhere`).
        self._watermark: datetime | None = None
        self._wakeup = asyncio.Event()
        # Patients with a value newly beyond a limit without delay, for the crossing lane (`_run_crossings`).
        self._crossed: set[uuid.UUID] = set()
        self._hurry = asyncio.Event()
        # Patients being evaluated by either lane: never by both at once, so that an older reading
        # evaluated last can never undo what a newer one raised.
        self._evaluating: set[uuid.UUID] = set()
        # Whose NEWS2 is pushed once their alarms are out (`_push_news2`), and whose waits a little.
        self._news2 = News2Pushes(interval_s=NEWS2_PUSH_INTERVAL_S)
        self.stats = LiveStats()
        self.heartbeat = Heartbeat(bus, interval_s=self.tuning.heartbeat_s)
        # Pulsed after each round, committed or not (tests and benchmarks await it rather than sleep).
        self.round_done = asyncio.Event()

    # The ingest worker's side: called on the evaluator's event loop with each batch; never waits. ---
    def observe(
        self,
        # Keyed by (device id, attribution): any object with the Attributed properties.
        readings: Mapping[tuple[str, Any], Sequence[DecodedReading]],
        statuses: Iterable[tuple[str, Mapping[str, Any]]] = (),
    ) -> None:
        """Takes note of readings as they arrive, by (device, attribution), and of statuses by device."""
        for (_device_id, attributed), batch in readings.items():
            who: Attributed = attributed
            if who.patient_id is None:  # an unattributed reading alarms nobody
                continue
            state = self._patients.get(who.patient_id)
            if state is None:
                state = self._patients[who.patient_id] = _PatientState(who.bed_id, who.ward_id)
            else:
                state.bed_id, state.ward_id = who.bed_id, who.ward_id
            latest = state.latest
            raises_at_once = self._quiet.raises_at_once
            for metric, value, _unit, at in batch:
                # `merge`, inlined: this runs for every reading the worker commits.
                seen = latest.get(metric)
                if seen is None or seen[1] <= at:
                    latest[metric] = (value, at)
                    if raises_at_once(who.patient_id, metric, value):
                        self._crossed.add(who.patient_id)
                        self._hurry.set()
        for device_id, body in statuses:
            try:
                status = StatusMessage.model_validate({k: v for k, v in body.items() if k != "device_id"})
            except ValidationError:
                # Validated on receipt already; a shape we do not know must not stop the ingest worker.
                log.exception("status of %s not understood; no technical alarms from it", device_id)
                continue
            current = self._statuses.get(device_id)
            if current is None or current.time <= status.time:
                self._statuses[device_id] = status
        if self._patients or self._statuses:
            self._wakeup.set()

    @property
    def waiting(self) -> int:
        """Patients and devices waiting for the next round."""
        return len(self._patients) + len(self._statuses)

    # The evaluator's own task. ------------------------------------------------------------------
    async def run(self) -> None:
        """Evaluates rounds until cancelled: the routine rounds here, crossings in a lane of their own."""
        crossings = asyncio.create_task(self._run_crossings(), name="alarm-crossings")
        try:
            await self._run_routine()
        finally:
            await cancel_and_wait(crossings)

    async def _run_routine(self) -> None:
        attempt = 0
        while True:
            wait_s = self._next_tick_s - time.monotonic()
            if wait_s > 0:
                # Woken by readings, or by the tick: pending conditions and ending alarms are due a look.
                # (`asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` loses a cancellation
                # that arrives as the event is set, and the evaluator then ignores its shutdown.)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait_s):
                        await self._wakeup.wait()
            stop_if_cancelled()  # a cancellation swallowed in the round or the wait below
            patients, statuses = self._take()
            self._evaluating |= patients.keys()
            cpu_started = time.thread_time()
            ticked = False
            try:
                changes, ticked = await self._evaluate_round(patients, statuses)
            except (OperationalError, InterfaceError, OSError) as error:
                # The database is away: keep the state and try again later.
                self._put_back(patients, statuses)
                self.stats.retries += 1
                delay_s = reconnect_delay_s(
                    attempt, base_s=self.tuning.retry_base_s, cap_s=self.tuning.retry_cap_s
                )
                log.warning("alarm round not committed (%s); retrying in %.2f s", error, delay_s)
                attempt += 1
                self._done_evaluating(patients)
                self._round_ended()
                await asyncio.sleep(delay_s)
                continue
            except Exception:
                # A bug must not stop alarms for everyone: the next readings evaluate these patients again.
                self.stats.failed_rounds += 1
                log.exception("alarm round failed; %d patients dropped from it", len(patients))
                changes = []
            finally:
                self.stats.cpu_s += time.thread_time() - cpu_started
                self._done_evaluating(patients)
            attempt = 0
            self.stats.rounds += 1
            self.stats.changes += len(changes)
            await self._publish(changes)
            await self._push_news2()
            if ticked:
                # A tick's round read the database and committed: that proves alarms are evaluated
                # (a round with nothing to read commits even while the database is away).
                await self.heartbeat.after_round(rounds=self.stats.rounds, waiting=self.waiting)
            self._round_ended()
            # Pacing the rounds (what arrives meanwhile is merged into the next one), not polling.
            await asyncio.sleep(self.tuning.min_round_interval_s)

    async def _run_crossings(self) -> None:
        """The crossing lane: a value newly beyond a limit that has no condition delay (a clinician's
        limit set to alarm at once, a cuff pressure) is evaluated at once, beside the rounds.

        A routine round under load lasts a few hundred milliseconds (hundreds of patients whose NEWS2
        parameters moved band); a crossing that waited for it, then for the pace, would reach the
        dashboard well after its reading. Here it is evaluated in a transaction of its own as soon as
        it is handed over, while the round goes on; the routine rounds never wait for this lane, so
        a stream of crossings cannot starve anyone else. Two workers evaluating one patient at once
        is safe for the database: evaluations lock a patient's open alarms and insert conditions and alarms
        ignoring conflicts, as two ingest workers sharing the load do; but within one evaluator a
        patient is never in both lanes at once, so that an older reading evaluated last cannot end
        an alarm a newer one raised. A crossing of a patient the round is evaluating waits for that
        round to end; a round takes no patient with a crossing waiting, and lets go at once of the
        patients it takes but does not evaluate (quiet, or beyond `max_patients_per_round`).
        """
        while True:
            await self._hurry.wait()
            self._hurry.clear()
            stop_if_cancelled()
            # A patient the routine round is evaluating waits for it to end (see `_done_evaluating`).
            ready = {p for p in self._crossed if p not in self._evaluating}
            self._crossed -= ready
            patients = {p: self._patients.pop(p) for p in ready if p in self._patients}
            if not patients:
                continue
            self._evaluating |= patients.keys()
            cpu_started = time.thread_time()
            try:
                changes = await self._evaluate_crossings(patients)
            except (OperationalError, InterfaceError, OSError) as error:
                # The database is away: the routine rounds retry them, with backoff.
                log.warning("crossings not evaluated (%s); left to the next round", error)
                self._put_back(patients, {})
                continue
            except Exception:
                self.stats.failed_rounds += 1
                log.exception("crossing round failed; %d patients dropped from it", len(patients))
                continue
            finally:
                self.stats.cpu_s += time.thread_time() - cpu_started
                self._done_evaluating(patients)
            self.stats.rounds += 1
            self.stats.crossing_rounds += 1
            self.stats.changes += len(changes)
            await self._publish(changes)
            # Their scores go with the next routine round: the next crossing never waits for them.
            self._wakeup.set()
            self._round_ended()

    def _done_evaluating(self, patients: Iterable[uuid.UUID]) -> None:
        done = set(patients)
        self._evaluating -= done
        if self._crossed:
            self._hurry.set()  # crossings that waited for this round's patients
        if not done.isdisjoint(self._patients):
            self._wakeup.set()  # readings that arrived meanwhile, left out of the other lane's round

    def _round_ended(self) -> None:
        # Wakes whoever waits for the end of a round; later waiters wait for the next one.
        self.round_done.set()
        self.round_done.clear()

    def _take(self) -> tuple[dict[uuid.UUID, _PatientState], dict[str, StatusMessage]]:
        # Everything waiting, but for patients the crossing lane is evaluating (they wait for the next
        # round) or is about to (a value newly past a limit: a crossing taken into a round of
        # hundreds would be published only when the whole round is): the round ranks what it takes
        # and puts back what does not fit (see `_to_evaluate`).
        keep = self._evaluating | self._crossed
        if keep:
            patients = {p: s for p, s in self._patients.items() if p not in keep}
            self._patients = {p: s for p, s in self._patients.items() if p in keep}
        else:
            patients, self._patients = self._patients, {}
        statuses, self._statuses = self._statuses, {}
        self._wakeup.clear()
        return patients, statuses

    def _put_back(self, patients: dict[uuid.UUID, _PatientState], statuses: dict[str, StatusMessage]) -> None:
        for patient_id, taken in patients.items():
            state = self._patients.setdefault(patient_id, _PatientState(taken.bed_id, taken.ward_id))
            for metric, (value, at) in taken.latest.items():
                state.merge(metric, value, at)
        for device_id, status in statuses.items():
            current = self._statuses.get(device_id)
            if current is None or current.time < status.time:
                self._statuses[device_id] = status
        self._wakeup.set()

    async def _evaluate_round(
        self, patients: dict[uuid.UUID, _PatientState], statuses: dict[str, StatusMessage]
    ) -> tuple[list[AlarmChange], bool]:
        """The round's alarm changes, and whether it was a tick's (it looked for patients awaiting time)."""
        now, now_s = utc_now(), time.monotonic()
        ticked = False
        async with transaction(self._sessions) as session:
            if self._watermark is not None and len(self._quiet):
                # Overlapping the previous round's look: a change committed late still has an old stamp.
                since = self._watermark - WATERMARK_OVERLAP
                self._quiet.forget(await changed_elsewhere(session, since=since))
            self._watermark = now
            if now_s >= self._next_tick_s:
                self._next_tick_s = now_s + self.tuning.tick_s
                ticked = True
                for patient_id in await patients_awaiting_time(session):
                    if patient_id in self._evaluating and patient_id not in patients:
                        continue  # in the crossing lane now; the next tick looks again
                    # No readings and no known bed: evaluated in full, its bed looked up.
                    patients.setdefault(patient_id, _PatientState(None, None))
                    self._evaluating.add(patient_id)
            batch, values = await self._to_evaluate(patients, now_s=now_s)
            changes, evaluations = await self._evaluate_in(session, batch, now=now)
            for device_id, status in statuses.items():
                changes += await engine.apply_device_status(
                    session,
                    device_id=device_id,
                    status=status,
                    now=now,
                    low_battery_pct=self.tuning.low_battery_pct,
                )
        await self._remember(evaluations, values, now_s=now_s)
        self.stats.statuses += len(statuses)
        if self.stats.rounds % 100 == 0:
            self._quiet.forget_older_than(now_s - 10 * self.tuning.full_every_s)
            self._news2.forget_older_than(now_s - 10 * self.tuning.full_every_s)
        return changes, ticked

    async def _evaluate_crossings(self, patients: dict[uuid.UUID, _PatientState]) -> list[AlarmChange]:
        """The crossing lane's round: these patients in full, whatever the quiet cache says."""
        now, now_s = utc_now(), time.monotonic()
        batch = [engine.PatientReadings(p, s.readings(), s.bed_id, s.ward_id) for p, s in patients.items()]
        values = {p: {m: v for m, (v, _at) in s.latest.items()} for p, s in patients.items()}
        async with transaction(self._sessions) as session:
            changes, evaluations = await self._evaluate_in(session, batch, now=now)
        await self._remember(evaluations, values, now_s=now_s)
        return changes

    async def _evaluate_in(
        self, session: AsyncSession, batch: list[engine.PatientReadings], *, now: datetime
    ) -> tuple[list[AlarmChange], dict[uuid.UUID, engine.Evaluation]]:
        evaluations = await engine.evaluate_patients(
            session, batch, now=now, yield_every=self.tuning.yield_every_patients, policy=self.policy
        )
        changes: list[AlarmChange] = []
        for item in batch:
            evaluation = evaluations.get(item.patient_id)
            if evaluation is None:  # e.g. a patient record removed since the binding
                log.warning("alarms of patient %s not evaluated: no such patient", item.patient_id)
                continue
            changes += evaluation.changes
        return changes, evaluations

    async def _remember(
        self,
        evaluations: dict[uuid.UUID, engine.Evaluation],
        values: dict[uuid.UUID, dict[str, float]],
        *,
        now_s: float,
    ) -> None:
        # Committed: only now is what was seen worth remembering.
        for count, (patient_id, evaluation) in enumerate(evaluations.items(), 1):
            self._quiet.evaluated(
                patient_id,
                values[patient_id],
                limits=evaluation.limits,
                news2_risk=evaluation.news2_risk,
                now_s=now_s,
            )
            self._news2.evaluated(patient_id, evaluation, now_s=now_s)
            if count % self.tuning.yield_every_patients == 0:
                await asyncio.sleep(0)  # signatures score every SpO2 scale: ~40 us a patient
        self.stats.evaluated += len(evaluations)

    async def _to_evaluate(
        self, patients: dict[uuid.UUID, _PatientState], *, now_s: float
    ) -> tuple[list[engine.PatientReadings], dict[uuid.UUID, dict[str, float]]]:
        """The patients to evaluate in full this round, most urgent first, and their latest values.

        Quiet patients are dropped. Of the rest, at most `max_patients_per_round` are taken, the most
        urgent first (`Urgency`); the others wait for the next round, where newer values merge into
        theirs. So after a restart, when every patient waits for a full evaluation, a crossing
        still goes first.
        """
        ranked: list[tuple[Urgency, int, uuid.UUID, dict[str, float]]] = []
        for count, (patient_id, state) in enumerate(patients.items(), 1):
            latest = {metric: value for metric, (value, _at) in state.latest.items()}
            # A patient taken for the tick has a pending condition or an open alarm, and no readings:
            # time may raise or end an alarm now.
            urgency = self._quiet.urgency(patient_id, latest, now_s=now_s) if latest else Urgency.NOW
            if urgency is Urgency.QUIET:
                self.stats.quiet += 1
            else:
                ranked.append((urgency, count, patient_id, latest))
            if count % self.tuning.yield_every_patients == 0:
                await asyncio.sleep(0)  # the loop's turn: quiet checks add up over a large round
        ranked.sort()
        limit = self.tuning.max_patients_per_round
        if len(ranked) > limit:
            self._put_back(
                {patient_id: patients[patient_id] for _u, _c, patient_id, _v in ranked[limit:]}, {}
            )
            del ranked[limit:]
        # The quiet and the put back are not this round's: a crossing of theirs need not wait for it.
        self._done_evaluating(patients.keys() - {patient_id for _u, _c, patient_id, _v in ranked})
        batch = [
            engine.PatientReadings(patient_id, state.readings(), state.bed_id, state.ward_id)
            for _urgency, _count, patient_id, _values in ranked
            for state in (patients[patient_id],)
        ]
        return batch, {patient_id: values for _u, _c, patient_id, values in ranked}

    async def _push_news2(self) -> None:
        """Pushes the NEWS2 of the patients whose score changed as a page shows it, after their alarms
        (the routine rounds push the crossing lane's too, so that a crossing never waits for this).

        Dashboards take it from here instead of asking for every patient's score over and over. Each
        answer is the REST answer's shape, with when the next full set is due (one query for all).
        A failure is logged, and those scores go again with their patients' next evaluation.
        """
        due = self._news2.take_due(now_s=time.monotonic())
        if not due:
            return
        now = utc_now()
        try:
            async with self._sessions() as session:
                last_sets = await last_full_sets(session, patient_ids=due.keys(), now=now)
            answers = [
                (news2_answer(p, e.news2, last_full_set_at=last_sets.get(p), now=now), e.ward_id)
                for p, e in due.items()
            ]
            await publish_news2(self._bus, answers)
        except Exception:
            log.exception("NEWS2 of %d patients not pushed; their next evaluation pushes it", len(due))
            self._news2.not_pushed(list(due))
            return
        self.stats.news2_pushed += len(answers)

    async def _publish(self, changes: list[AlarmChange]) -> None:
        if not changes:
            return
        try:
            await publish_changes(self._bus, changes)
        except Exception:
            # Stored and audited already; dashboards read them from their next snapshot.
            log.exception("publishing %d alarm changes failed", len(changes))


def live_evaluator_factory(
    settings: Settings, **tuning: Any
) -> Callable[[async_sessionmaker[AsyncSession], Bus], LiveAlarmEvaluator]:
    """What a composition root injects into the ingest worker: an evaluator on the worker's sessions and bus."""
    tuning.setdefault("tick_s", settings.alarm_tick_s)
    tuning.setdefault("heartbeat_s", settings.alarm_heartbeat_s)
    chosen = LiveTuning(low_battery_pct=settings.alarm_low_battery_pct, **tuning)
    policy = policy_from_settings(settings)

    def build(sessions: async_sessionmaker[AsyncSession], bus: Bus) -> LiveAlarmEvaluator:
        return LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=chosen, policy=policy)

    return build
