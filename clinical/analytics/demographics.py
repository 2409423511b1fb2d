"""Patient demographics: active patients by age band and administrative gender, and new registrations."""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.patients import AdministrativeGender, Patient
from core.reports import Report, day_start

# Lower bounds in whole years; a patient's band is their age on the report's last day.
AGE_BANDS = ((0, "0-17"), (18, "18-39"), (40, "40-64"), (65, "65-79"), (80, "80+"))
GENDERS = [gender.value for gender in AdministrativeGender]


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def _age_band(on: date):
    # Born on or before the date `lower` years back means at least `lower` years old on `on`;
    # comparing dates keeps it portable (no age() in SQLite) and exact on birthdays.
    whens = [
        (Patient.birth_date <= _years_before(on, lower), literal(label))
        for lower, label in reversed(AGE_BANDS)
        if lower > 0
    ]
    return case((Patient.birth_date.is_(None), literal("unknown")), *whens, else_=literal(AGE_BANDS[0][1]))


async def demographics(*, session: AsyncSession, start: date, end: date) -> Report:
    """Patients on the books on the range's last day by age band and gender, plus those registered in it."""
    last_day = date.fromordinal(end.toordinal() - 1)
    band = _age_band(last_day).label("band")
    registered = case((Patient.created_at >= day_start(start), 1), else_=0)
    statement = (
        select(band, Patient.gender, func.count(), func.sum(registered))
        .where(Patient.active.is_(True), Patient.deceased.is_(False), Patient.created_at < day_start(end))
        .group_by(band, Patient.gender)
    )
    counts: dict[str, dict[str, int]] = {}
    new: dict[str, int] = {}
    for band_label, gender, total, newly in (await session.execute(statement)).all():
        counts.setdefault(band_label, {})[str(gender)] = int(total)
        new[band_label] = new.get(band_label, 0) + int(newly or 0)
    labels = [label for _, label in AGE_BANDS] + ["unknown"]
    rows = [
        [
            label,
            *(counts.get(label, {}).get(g, 0) for g in GENDERS),
            sum(counts.get(label, {}).values()),
            new.get(label, 0),
        ]
        for label in labels
    ]
    return Report(
        name="demographics",
        title="Patient demographics",
        start=start,
        end=end,
        columns=["age_band", *GENDERS, "total", "registered_in_range"],
        rows=rows,
        notes=[f"Age on {last_day.isoformat()}; active, living patients registered before the range's end."],
    )
