"""Free slots: the pure grid computation (daylight-saving weeks included) and GET /slots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.scheduling.exceptions import (
    InThePast,
    OffSlotGrid,
    OutsideWorkingHours,
    PractitionerUnavailable,
)
from clinical.scheduling.slots import Interval, check_bookable, free_slots
from clinical.scheduling.weekly import covers, hours_overlap
from core.principal import Role
from core.settings import Settings
from tests.clinical.scheduling_builders import (
    API,
    account,
    appointment_type,
    at,
    book,
    future_day,
    patient_record,
    practitioner,
)

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)


@dataclass(frozen=True)
class Hours:
    weekday: int
    start_time: time
    end_time: time
    time_zone: str = "Europe/London"
    valid_from: date = date(2026, 1, 1)
    valid_to: date | None = None


def weekdays(start: time, end: time, zone: str = "Europe/London") -> list[Hours]:
    return [Hours(d, start, end, zone) for d in range(1, 6)]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_spring_forward_week_keeps_local_times_and_moves_utc() -> None:
    # Europe/London goes from GMT to BST on Sunday 29 March 2026.
    slots = free_slots(
        hours=weekdays(time(9), time(12)),
        blocked=[],
        duration=HALF_HOUR,
        start=utc(2026, 3, 23),
        end=utc(2026, 4, 4),
        not_before=LONG_AGO,
    )
    by_day: dict[date, list[datetime]] = {}
    for slot in slots:
        by_day.setdefault(slot.start.astimezone(ZoneInfo("Europe/London")).date(), []).append(slot.start)
    assert len(by_day) == 10 and all(len(starts) == 6 for starts in by_day.values())
    assert by_day[date(2026, 3, 27)][0] == utc(2026, 3, 27, 9)  # GMT: 09:00 local is 09:00 UTC
    assert by_day[date(2026, 3, 30)][0] == utc(2026, 3, 30, 8)  # BST: 09:00 local is 08:00 UTC
    local_starts = {s.start.astimezone(ZoneInfo("Europe/London")).time() for s in slots}
    assert local_starts == {time(9), time(9, 30), time(10), time(10, 30), time(11), time(11, 30)}


def test_overnight_shift_across_the_autumn_change_is_cut_in_real_time() -> None:
    # Saturday 24 October 2026, 23:00 BST to Sunday 03:00 GMT is five real hours: ten slots.
    hours = [Hours(6, time(23), time(3))]
    slots = free_slots(
        hours=hours,
        blocked=[],
        duration=HALF_HOUR,
        start=utc(2026, 10, 24),
        end=utc(2026, 10, 26),
        not_before=LONG_AGO,
    )
    assert len(slots) == 10
    assert slots[0].start == utc(2026, 10, 24, 22) and slots[-1].end == utc(2026, 10, 25, 3)
    assert all(s.end - s.start == HALF_HOUR for s in slots)


def test_new_york_spring_change() -> None:
    # America/New_York moves from EST (-5) to EDT (-4) on Sunday 8 March 2026.
    hours = [Hours(d, time(8), time(9), "America/New_York") for d in range(1, 8)]
    slots = free_slots(
        hours=hours,
        blocked=[],
        duration=timedelta(minutes=60),
        start=utc(2026, 3, 7),
        end=utc(2026, 3, 10),
        not_before=LONG_AGO,
    )
    assert [s.start for s in slots] == [utc(2026, 3, 7, 13), utc(2026, 3, 8, 12), utc(2026, 3, 9, 12)]


def test_exceptions_bookings_and_the_past_remove_slots() -> None:
    hours = [Hours(1, time(9), time(11))]  # Monday 16 March 2026, GMT
    day_start, day_end = utc(2026, 3, 16), utc(2026, 3, 17)
    blocked = [
        Interval(utc(2026, 3, 16, 9, 30), utc(2026, 3, 16, 10), "booked"),
        Interval(utc(2026, 3, 16, 10, 20), utc(2026, 3, 16, 10, 40), "leave"),
    ]
    starts = [
        s.start
        for s in free_slots(
            hours=hours,
            blocked=blocked,
            duration=timedelta(minutes=20),
            start=day_start,
            end=day_end,
            not_before=utc(2026, 3, 16, 9, 10),
        )
    ]
    # 09:00 is past; 09:20 and 09:40 touch the booking; 10:20 is leave; 10:00 and 10:40 are free.
    assert starts == [utc(2026, 3, 16, 10), utc(2026, 3, 16, 10, 40)]


def test_validity_dates_are_inclusive() -> None:
    hours = [
        Hours(d, time(9), time(10), valid_from=date(2026, 3, 17), valid_to=date(2026, 3, 18))
        for d in range(1, 8)
    ]
    slots = free_slots(
        hours=hours,
        blocked=[],
        duration=timedelta(hours=1),
        start=utc(2026, 3, 15),
        end=utc(2026, 3, 21),
        not_before=LONG_AGO,
    )
    assert [s.start.date() for s in slots] == [date(2026, 3, 17), date(2026, 3, 18)]


@pytest.mark.parametrize(
    ("start", "error"),
    [
        (utc(2026, 3, 16, 9, 30), InThePast),
        (utc(2026, 3, 17, 12), OutsideWorkingHours),
        (utc(2026, 3, 17, 10, 40), OutsideWorkingHours),  # would run past 11:00
        (utc(2026, 3, 17, 9, 10), OffSlotGrid),
        (utc(2026, 3, 17, 10), PractitionerUnavailable),
    ],
)
def test_check_bookable_names_the_reason(start: datetime, error: type[Exception]) -> None:
    hours = [Hours(d, time(9), time(11)) for d in range(1, 8)]
    leave = [Interval(utc(2026, 3, 17, 10), utc(2026, 3, 17, 10, 30), "leave")]
    with pytest.raises(error):
        check_bookable(hours=hours, exceptions=leave, duration=HALF_HOUR, start=start, now=utc(2026, 3, 17))


def test_check_bookable_returns_the_slot_and_suggests_neighbours() -> None:
    hours = [Hours(2, time(9), time(11))]
    slot = check_bookable(
        hours=hours, exceptions=[], duration=HALF_HOUR, start=utc(2026, 3, 17, 9, 30), now=utc(2026, 3, 17)
    )
    assert slot.end == utc(2026, 3, 17, 10)
    with pytest.raises(OffSlotGrid) as raised:
        check_bookable(
            hours=hours,
            exceptions=[],
            duration=HALF_HOUR,
            start=utc(2026, 3, 17, 9, 40),
            now=utc(2026, 3, 17),
        )
    assert raised.value.extra["nearest_slots"] == ["2026-03-17T09:30:00+00:00", "2026-03-17T10:00:00+00:00"]


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        (Hours(1, time(9), time(12)), Hours(1, time(11), time(13)), True),
        (Hours(1, time(9), time(12)), Hours(1, time(12), time(13)), False),  # adjacent
        (Hours(1, time(9), time(12)), Hours(2, time(9), time(12)), False),
        (Hours(7, time(22), time(2)), Hours(1, time(1), time(3)), True),  # Sunday night wraps to Monday
        (Hours(7, time(22), time(0)), Hours(1, time(0), time(3)), False),
        (
            Hours(1, time(9), time(12), valid_to=date(2026, 3, 31)),
            Hours(1, time(9), time(12), valid_from=date(2026, 4, 1)),
            False,
        ),
    ],
)
def test_weekly_overlap(a: Hours, b: Hours, overlap: bool) -> None:
    assert hours_overlap(a, b) is overlap and hours_overlap(b, a) is overlap


def test_covers_an_overnight_occurrence() -> None:
    saturday_night = Hours(6, time(22), time(2))
    assert covers(saturday_night, utc(2026, 3, 15, 1), utc(2026, 3, 15, 1, 30))
    assert not covers(saturday_night, utc(2026, 3, 15, 2), utc(2026, 3, 15, 2, 30))


# --- GET /slots --------------------------------------------------------------------------------


async def test_slots_of_a_practitioner_shrink_when_one_is_booked(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, staff = await account(sessions, settings, Role.NURSE)
    kind = await appointment_type(sessions, duration_minutes=60)
    doctor = await practitioner(sessions, hours=(time(9), time(12)))
    day = future_day()
    params = {
        "appointment_type": kind.code,
        "practitioner_id": str(doctor.id),
        "start": at(day, 0).isoformat(),
        "end": at(day + timedelta(days=1), 0).isoformat(),
    }
    response = await client.get(f"{API}/slots", params=params, headers=staff)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["local_start"] for s in body["items"]] == [at(day, h).isoformat() for h in (9, 10, 11)]
    assert body["items"][0]["start_at"].endswith("Z")  # stored and shown in UTC
    assert datetime.fromisoformat(body["items"][0]["start_at"]) == at(day, 9)
    assert body["items"][0]["time_zone"] == "Europe/Paris" and body["truncated"] is False

    [patient_id] = await patient_record(sessions)
    booked = await book(
        client, staff, practitioner_id=doctor.id, kind=kind, start_at=at(day, 10), patient_id=patient_id
    )
    assert booked.status_code == 201, booked.text
    after = (await client.get(f"{API}/slots", params=params, headers=staff)).json()
    assert [s["local_start"] for s in after["items"]] == [at(day, h).isoformat() for h in (9, 11)]


async def test_slots_by_specialty_span_practitioners(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.PATIENT)
    kind = await appointment_type(sessions, duration_minutes=60)
    specialty = f"spec-{kind.code}"
    first = await practitioner(sessions, specialties=[specialty], hours=(time(9), time(10)))
    second = await practitioner(sessions, specialties=[specialty], hours=(time(14), time(15)))
    await practitioner(sessions, specialties=["other"], hours=(time(9), time(10)))
    day = future_day()
    response = await client.get(
        f"{API}/slots",
        params={
            "appointment_type": kind.code,
            "specialty": specialty,
            "start": at(day, 0).isoformat(),
            "end": at(day, 23).isoformat(),
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert [(s["practitioner_id"], s["local_start"]) for s in response.json()["items"]] == [
        (str(first.id), at(day, 9).isoformat()),
        (str(second.id), at(day, 14).isoformat()),
    ]


async def test_slots_are_paged_without_splitting_a_start_time_and_say_where_the_rest_start(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.PATIENT)
    kind = await appointment_type(sessions, duration_minutes=30)
    specialty = f"spec-{kind.code}"
    for _ in range(2):  # two practitioners free at the same six times
        await practitioner(sessions, specialties=[specialty], hours=(time(9), time(12)))
    day = future_day()
    params = {
        "appointment_type": kind.code,
        "specialty": specialty,
        "end": at(day, 23).isoformat(),
        "limit": "5",
    }
    start, pages = at(day, 0).isoformat(), []
    while start is not None:
        body = (await client.get(f"{API}/slots", params={**params, "start": start}, headers=headers)).json()
        pages.append([datetime.fromisoformat(s["start_at"]) for s in body["items"]])
        assert body["truncated"] is (body["next_start"] is not None)
        start = body["next_start"]
    # Five would split 10:00 between two pages: each page stops before it, and the next starts there.
    hours = [at(day, 9) + timedelta(minutes=30 * n) for n in range(6)]
    assert pages == [
        [hours[0], hours[0], hours[1], hours[1]],
        [hours[2], hours[2], hours[3], hours[3]],
        [hours[4], hours[4], hours[5], hours[5]],
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"end": "+40d"}, "invalid-range"),
        ({"end": "-1d"}, "invalid-range"),
        ({"appointment_type": "no-such-type"}, "unknown-appointment-type"),
        ({"start": "2026-02-30T09:00:00+01:00"}, "validation-failed"),
        ({"start": "2026-03-01T09:00:00"}, "validation-failed"),
    ],
)
async def test_bad_slot_searches_are_422_naming_the_reason(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    change: dict[str, str],
    code: str,
) -> None:
    _, headers = await account(sessions, settings, Role.CLINICIAN)
    kind = await appointment_type(sessions)
    start = at(future_day(), 0)
    params = {
        "appointment_type": kind.code,
        "start": start.isoformat(),
        "end": (start + timedelta(days=1)).isoformat(),
    }
    for key, value in change.items():
        if value[0] in "+-" and value.endswith("d"):
            params[key] = (start + timedelta(days=int(value[:-1]))).isoformat()
        else:
            params[key] = value
    response = await client.get(f"{API}/slots", params=params, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


@pytest.mark.parametrize("role", list(Role))
async def test_every_signed_in_role_may_search_slots(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings, role: Role
) -> None:
    _, headers = await account(sessions, settings, role)
    kind = await appointment_type(sessions)
    start = at(future_day(), 0)
    params = {
        "appointment_type": kind.code,
        "start": start.isoformat(),
        "end": (start + timedelta(days=2)).isoformat(),
    }
    assert (await client.get(f"{API}/slots", params=params, headers=headers)).status_code == 200


async def test_slot_search_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/slots", params={"appointment_type": "x", "start": "a", "end": "b"})
    assert response.status_code == 401
