"""Every report against figures worked out by hand on `small_hospital`, on PostgreSQL and on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.analytics import by_department, by_practitioner, consultation_durations, demographics
from core.db import create_engine
from core.sessions import create_sessionmaker, transaction
from devices.vitals.coverage import device_coverage
from ownat.migrate import upgrade_async
from realtime.alarms.reports import alarms_by_ward
from tests.analytics import small_hospital
from tests.analytics.small_hospital import END, START


@pytest.fixture(scope="module", params=["postgresql", pytest.param("sqlite", marks=pytest.mark.embedded)])
async def hospital(
    request: pytest.FixtureRequest, databases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if request.param == "postgresql":
        url = databases.create("analytics")
    else:
        path: Path = tmp_path_factory.mktemp("analytics") / "ownat.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    async with transaction(sessions) as session:
        await small_hospital.load(session)
    try:
        yield sessions
    finally:
        await engine.dispose()


async def run(sessions, report, **kwargs):
    async with transaction(sessions) as session:
        return await report(session=session, start=START, end=END, **kwargs)


async def test_demographics_counts_age_on_the_last_day_and_leaves_out_inactive_and_later_patients(
    hospital,
) -> None:
    report = await run(hospital, demographics)
    assert report.columns == [
        "age_band",
        "male",
        "female",
        "other",
        "unknown",
        "total",
        "registered_in_range",
    ]
    assert report.rows == [
        ["0-17", 1, 1, 0, 0, 2, 1],
        ["18-39", 1, 0, 0, 0, 1, 0],
        ["40-64", 0, 1, 0, 0, 1, 0],
        ["65-79", 0, 1, 0, 0, 1, 0],
        ["80+", 0, 0, 1, 0, 1, 0],
        ["unknown", 0, 0, 0, 1, 1, 1],
    ]


async def test_appointments_per_practitioner_with_no_shows_and_utilisation(hospital) -> None:
    report = await run(hospital, by_practitioner)
    assert [row[1:] for row in report.rows] == [
        # 3 kept of 4 (one cancelled), 1 no-show of 3 seen-or-missed, 90 booked of 2,160 scheduled minutes
        ["Aalto, Ada", "Cardiology", 3, 2, 1, 1, 33.3, 90.0, 2160.0, 4.2],
        # Tuesday 09:00-12:00 Berlin is 180 minutes; nobody seen or missed yet: no rate
        ["Berg, Ben", "Cardiology", 1, 0, 0, 0, None, 60.0, 180.0, 33.3],
        # no working hours: no utilisation
        ["Cruz, Cy", "Neurology", 1, 1, 0, 0, 0.0, 20.0, 0.0, None],
    ]


async def test_appointments_per_department_sum_their_practitioners(hospital) -> None:
    report = await run(hospital, by_department)
    assert report.rows == [
        ["Cardiology", 4, 2, 1, 1, 33.3, 150.0, 2340.0, 6.4],
        ["Neurology", 1, 1, 0, 0, 0.0, 20.0, 0.0, None],
    ]


async def test_consultation_durations_count_only_finished_consultations_in_range(hospital) -> None:
    report = await run(hospital, consultation_durations)
    assert [row[1:] for row in report.rows] == [
        ["Aalto, Ada", "ambulatory", 3, 25.0, 20.0, 45.0],
        ["Aalto, Ada", "virtual", 1, 30.0, 30.0, 30.0],
    ]


async def test_alarms_per_ward_with_time_to_acknowledge(hospital) -> None:
    report = await run(hospital, alarms_by_ward)
    assert report.rows == [
        ["Ward 1", "high", 3, 2, 1, 1, 60.0, 60.0],
        ["Ward 1", "low", 1, 1, 0, 0, 10.0, 10.0],
        ["Ward 2", "medium", 2, 2, 0, 0, 30.0, 30.0],
    ]


async def test_device_coverage_counts_covered_minutes_over_bound_minutes_and_gaps(hospital) -> None:
    report = await run(hospital, device_coverage)
    assert [row[1:] for row in report.rows] == [
        ["bedside_monitor", 1440.0, 72, 5.0, 1],  # 72 covered minutes of one bound day; one 11-minute step
        ["bedside_monitor", 720.0, 0, 0.0, 0],  # bound since 8 March noon, silent
    ]
    assert [row[0].split("-")[1] for row in report.rows] == ["d1", "d2"]


async def test_device_coverage_answers_for_a_year(hospital) -> None:
    async with transaction(hospital) as session:
        report = await device_coverage(session=session, start=date(2025, 3, 9), end=END)
    assert [row[1:] for row in report.rows] == [
        # The minute before 2 March now counts, and its step into 2 March is one minute, not a gap.
        ["bedside_monitor", 1440.0, 73, 5.1, 1],
        ["bedside_monitor", 720.0, 0, 0.0, 0],
    ]
