"""A year (2025) of a 300-bed hospital, generated inside PostgreSQL with `generate_series`.

Volumes: 60,000 patients, 15 departments, 200 practitioners working weekdays with 25 days of
leave, about 260,000 outpatient appointments and 200,000 consultations, 12 wards of 25 beds with
about 330,000 alarms, 300 bedside monitors with five-day bindings all year, and device coverage:
one-minute rollups for the last `rollup_days` days (a whole year would be 157 million rows per
metric), and hours of `device_coverage_1h` for the whole year. The hours before the rollups are
drawn directly (a year of minutes is too big to generate and summarise); the hours of the rollup
days are summarised from those minutes by the production refresh, which `bench.analytics` runs
after `generate`, so that minutes and hours agree wherever both exist. `setseed` makes every run
generate the same data.
"""

from __future__ import annotations

import psycopg

PATIENTS = 60_000
PRACTITIONERS = 200
BEDS_PER_WARD, WARDS = 25, 12

STEPS: list[tuple[str, str]] = [
    ("seed", "SELECT setseed(0.42)"),
    (
        "user",
        """
        INSERT INTO users (id, email, full_name, role, password_hash, is_active, password_changed_at, created_at, updated_at)
        VALUES (gen_random_uuid(), 'bench-admin@example.org', 'Bench Admin', 'admin', 'x', true, now(), now(), now())
    """,
    ),
    (
        "departments",
        """
        INSERT INTO departments (id, code, name, active, created_at, updated_at)
        SELECT gen_random_uuid(), 'D' || lpad(g::text, 2, '0'), 'Department ' || lpad(g::text, 2, '0'), true, now(), now()
        FROM generate_series(1, 15) g
    """,
    ),
    (
        "practitioners",
        f"""
        INSERT INTO practitioners (id, given_name, family_name, qualifications, department_id, active, created_at, updated_at)
        SELECT gen_random_uuid(), 'Given' || g, 'Family' || lpad(g::text, 3, '0'), '[]'::json,
               (SELECT id FROM departments ORDER BY code OFFSET (g % 15) LIMIT 1), true, now(), now()
        FROM generate_series(1, {PRACTITIONERS}) g
    """,
    ),
    (
        "patients",
        f"""
        INSERT INTO patients (id, mrn, mrn_number, given_name, family_name, given_name_key, family_name_key,
                              birth_date, gender, deceased, active, created_at, updated_at)
        SELECT gen_random_uuid(), 'B' || lpad(g::text, 9, '0'), 500000000 + g, 'G' || g, 'F' || g, 'g' || g, 'f' || g,
               date '1930-01-01' + floor(random() * 34000)::int,
               CASE WHEN r < 0.49 THEN 'male' WHEN r < 0.97 THEN 'female' WHEN r < 0.99 THEN 'other' ELSE 'unknown' END,
               false, true, timestamptz '2019-01-01 00:00+00' + random() * interval '2190 days', now()
        FROM (SELECT g, random() AS r FROM generate_series(1, {PATIENTS}) g) numbered
    """,
    ),
    (
        "patient index",
        """
        CREATE TEMP TABLE patient_index AS SELECT row_number() OVER (ORDER BY mrn_number) - 1 AS i, id FROM patients;
        CREATE UNIQUE INDEX ON patient_index (i);
        CREATE TEMP TABLE practitioner_index AS
            SELECT row_number() OVER (ORDER BY family_name) - 1 AS i, id FROM practitioners;
    """,
    ),
    (
        "working hours",
        """
        INSERT INTO working_hours (id, practitioner_id, weekday, start_time, end_time, time_zone, valid_from, created_at, updated_at)
        SELECT gen_random_uuid(), p.id, d, time '08:00', time '16:00', 'Europe/Berlin', date '2024-01-01', now(), now()
        FROM practitioners p, generate_series(1, 5) d
    """,
    ),
    (
        "leave",
        """
        INSERT INTO schedule_exceptions (id, practitioner_id, start_at, end_at, reason, created_at, updated_at)
        SELECT gen_random_uuid(), p.id, day, day + interval '1 day', 'leave', now(), now()
        FROM practitioners p,
             LATERAL (SELECT DISTINCT timestamptz '2025-01-01 00:00+00' + floor(random() * 365) * interval '1 day' AS day
                      FROM generate_series(1, 25) WHERE p.id IS NOT NULL) days  -- correlated: drawn per practitioner
    """,
    ),
    (
        "appointment type",
        """
        INSERT INTO appointment_types (id, code, name, mode, duration_minutes, cancellation_window_hours, active, created_at, updated_at)
        VALUES (gen_random_uuid(), 'BENCH30', 'Consultation', 'in_person', 30, 24, true, now(), now())
    """,
    ),
    # Five 30-minute slots of sixteen on average per practitioner and weekday; the patient of a slot is
    # chosen so that no patient has two appointments at once (the exclusion constraints hold).
    (
        "appointments",
        f"""
        INSERT INTO appointments (id, patient_id, practitioner_id, appointment_type_id, start_at, end_at, status,
                                  reschedule_count, created_at, updated_at)
        SELECT gen_random_uuid(), pt.id, pr.id, (SELECT id FROM appointment_types WHERE code = 'BENCH30'),
               slot_start, slot_start + interval '30 minutes',
               CASE WHEN r < 0.78 THEN 'completed' WHEN r < 0.90 THEN 'cancelled' ELSE 'no_show' END, 0, now(), now()
        FROM (
            SELECT d.day_number, s, pr_i, timestamptz '2025-01-01 07:00+00' + d.day_number * interval '1 day'
                       + s * interval '30 minutes' AS slot_start, random() AS r, random() AS keep
            FROM generate_series(0, 364) AS d(day_number), generate_series(0, 13) s, generate_series(0, {PRACTITIONERS - 1}) pr_i
            WHERE extract(isodow FROM date '2025-01-01' + d.day_number) < 6
        ) slots
        JOIN practitioner_index pr ON pr.i = slots.pr_i
        JOIN patient_index pt ON pt.i = ((slots.day_number * 16 + slots.s) * {PRACTITIONERS} + slots.pr_i) % {PATIENTS}
        WHERE keep < 0.36
    """,
    ),
    (
        "consultations",
        """
        INSERT INTO encounters (id, patient_id, practitioner_id, appointment_id, encounter_class, status,
                                started_at, ended_at, created_by, created_at, updated_at)
        SELECT gen_random_uuid(), a.patient_id, a.practitioner_id, a.id,
               CASE WHEN random() < 0.85 THEN 'ambulatory' ELSE 'virtual' END, 'finished',
               a.start_at + start_delay, a.start_at + start_delay + (8 + random() * 30) * interval '1 minute',
               (SELECT id FROM users WHERE email = 'bench-admin@example.org'), now(), now()
        FROM appointments a, LATERAL (SELECT random() * interval '10 minutes' AS start_delay) d
        WHERE a.status = 'completed'
    """,
    ),
    (
        "wards and beds",
        f"""
        INSERT INTO wards (id, department_id, code, name, active, created_at, updated_at)
        SELECT gen_random_uuid(), (SELECT id FROM departments ORDER BY code OFFSET (w % 15) LIMIT 1),
               'W' || lpad(w::text, 2, '0'), 'Ward ' || lpad(w::text, 2, '0'), true, now(), now()
        FROM generate_series(1, {WARDS}) w;
        INSERT INTO beds (id, ward_id, label, active, created_at, updated_at)
        SELECT gen_random_uuid(), w.id, 'Bed ' || b, true, now(), now() FROM wards w, generate_series(1, {BEDS_PER_WARD}) b;
        CREATE TEMP TABLE bed_index AS SELECT row_number() OVER (ORDER BY ward_id, label) - 1 AS i, id, ward_id FROM beds;
    """,
    ),
    # About three alarms per bed and day; nine in ten acknowledged within four minutes, the rest escalated.
    (
        "alarms",
        f"""
        INSERT INTO alarms (id, patient_id, bed_id, ward_id, kind, condition_key, code, priority, status, raised_at,
                            acknowledged_at, resolved_at, escalated_at, detail, created_at, updated_at)
        SELECT gen_random_uuid(), pt.id, b.id, b.ward_id, 'threshold', 'bench:' || g, 'bench',
               (ARRAY['low', 'medium', 'high'])[1 + floor(random() * 3)::int], 'resolved', raised,
               CASE WHEN acked THEN raised + random() * interval '240 seconds' END,
               raised + interval '15 minutes', CASE WHEN NOT acked THEN raised + interval '2 minutes' END,
               '{{}}'::json, now(), now()
        FROM (SELECT g, timestamptz '2025-01-01 00:00+00' + random() * interval '365 days' AS raised,
                     random() < 0.9 AS acked FROM generate_series(1, {WARDS * BEDS_PER_WARD * 3 * 365}) g) a
        JOIN bed_index b ON b.i = a.g % {WARDS * BEDS_PER_WARD}
        JOIN patient_index pt ON pt.i = a.g % {PATIENTS}
    """,
    ),
    (
        "devices and bindings",
        f"""
        INSERT INTO devices (id, device_id, kind, manufacturer, model, serial, status, created_at, updated_at)
        SELECT gen_random_uuid(), 'bench-mon-' || lpad(b.i::text, 3, '0'), 'bedside_monitor', 'Bench', 'B1',
               'S' || b.i, 'active', now(), now()
        FROM bed_index b;
        INSERT INTO device_bindings (id, device_uuid, patient_id, bed_id, ward_id, start_at, end_at, created_at, updated_at)
        SELECT gen_random_uuid(), d.id, pt.id, b.id, b.ward_id,
               timestamptz '2025-01-01 02:00+00' + k * interval '5 days',
               timestamptz '2025-01-01 00:00+00' + (k + 1) * interval '5 days', now(), now()
        FROM bed_index b
        JOIN devices d ON d.device_id = 'bench-mon-' || lpad(b.i::text, 3, '0')
        CROSS JOIN generate_series(0, 72) k
        JOIN patient_index pt ON pt.i = (b.i * 73 + k) % {PATIENTS}
    """,
    ),
]


def rollup_step(days: int) -> tuple[str, str]:
    """Heart-rate rollups for the year's last `days` days, about 97% of minutes covered."""
    return ("rollups", f"""
        INSERT INTO vital_rollups_1m (bucket, patient_id, device_id, metric, min_value, max_value, sum_value, count)
        SELECT minute, bd.patient_id, d.device_id, '8867-4', 70, 80, 600, 8
        FROM devices d
        JOIN device_bindings bd ON bd.device_uuid = d.id
        CROSS JOIN LATERAL generate_series(
            greatest(bd.start_at, timestamptz '2026-01-01 00:00+00' - {days} * interval '1 day'),
            least(bd.end_at, timestamptz '2026-01-01 00:00+00') - interval '1 minute', interval '1 minute') minute
        WHERE bd.end_at > timestamptz '2026-01-01 00:00+00' - {days} * interval '1 day' AND random() < 0.97
    """)  # fmt: skip


def coverage_hours_step(rollup_days: int) -> tuple[str, str]:
    """Hours of device coverage from the year's start to the rollup days, drawn per bound hour.

    Bindings run from 02:00 to midnight, so their hours are whole. In one hour of 200 the monitor is
    silent (no row: a gap between hours); in three of 200 it drops out for ten minutes (a gap
    inside); otherwise up to three single minutes are missing, close to the minute rollups' 97%.
    """
    return ("coverage hours", f"""
        INSERT INTO device_coverage_1h (device_id, hour, covered_minutes, first_minute, last_minute, gaps_inside)
        SELECT device_id, hour, CASE WHEN outage THEN 50 ELSE 60 END - misses,
               hour, hour + interval '59 minutes', CASE WHEN outage THEN 1 ELSE 0 END
        FROM (
            SELECT d.device_id, hour, random() AS r, random() < 0.015 AS outage, floor(random() * 4)::int AS misses
            FROM devices d
            JOIN device_bindings bd ON bd.device_uuid = d.id
            CROSS JOIN LATERAL generate_series(
                bd.start_at, least(bd.end_at, timestamptz '2026-01-01 00:00+00' - {rollup_days} * interval '1 day')
                - interval '1 hour', interval '1 hour') hour
        ) drawn
        WHERE r >= 0.005
    """)  # fmt: skip


def generate(dsn: str, *, rollup_days: int, progress=print) -> None:
    """Fills the (migrated, empty) database at `dsn`; the rollup days' coverage hours are left to do."""
    with psycopg.connect(dsn, autocommit=False) as connection:
        for name, sql in [*STEPS, coverage_hours_step(rollup_days), rollup_step(rollup_days)]:
            progress(f"  generating {name} ...")
            connection.execute(sql)
        connection.commit()


TABLES = ["patients", "appointments", "encounters", "alarms", "device_bindings", "vital_rollups_1m",
          "device_coverage_1h"]  # fmt: skip


def analyse(dsn: str) -> dict[str, int]:
    """Vacuums and analyses the generated database; returns the row counts of the main tables."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
        return {t: connection.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}
