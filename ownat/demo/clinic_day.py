"""The demo clinician's clinic today: in-person visits beside the video calls, so the day list has
patients to check in, see in person and mark as not having come."""

from __future__ import annotations

from ownat.demo import visits
from ownat.demo.context import Seeding
from ownat.demo.outpatient_plan import OUTPATIENTS
from ownat.demo.specs import IN_PERSON, Upcoming
from ownat.demo.staff_plan import DEMO_CLINICIAN

# (plan key, reason, hours from now): the first free in-person slot from then on.
IN_PERSON_TODAY = (
    ("perez", "Blood pressure check after the dose increase", 0.5),
    ("silva", "Iron levels and tiredness", 1.5),
)


async def book_clinic(seeding: Seeding) -> None:
    """Books the in-person visits with the demo clinician."""
    plans = {plan.key: plan for plan in OUTPATIENTS}
    for key, reason, hours in IN_PERSON_TODAY:
        await visits.book(seeding, plans[key], Upcoming(DEMO_CLINICIAN, IN_PERSON, reason, hours=hours))
