"""The groups of an ORU^R01: each order (OBR) with its notes, observations (OBX) and specimens (SPM).

Nothing here is laboratory-specific, so that other ORU^R01 profiles (IHE PCD-01 device
observations) read the same structure: an observation keeps its OBX-4 sub-id, whose dotted form
(`1.2.3`) places it in a containment tree, and every NTE is attached to the segment it follows.

v2.5.1's ORDER_OBSERVATION group is ORC, OBR, {NTE}, {OBX {NTE}}, {SPM {OBX}}; many senders put the
SPM right after the OBR and the results after it, so an OBX after an SPM is kept with that specimen
and the reader of the structure decides what it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import hl7

from clinical.lab.hl7.errors import ErrorCode, Location, application_error
from clinical.lab.hl7.message import field as field_of
from clinical.lab.hl7.message import repetitions, segment_id


@dataclass(slots=True)
class ObservationGroup:
    """One OBX, where it is, and the comments (NTE) that follow it."""

    segment: hl7.Segment
    location: Location
    notes: list[str] = field(default_factory=list)

    @property
    def sub_id(self) -> str:
        """OBX-4, which groups observations (`1.2.3`: the third within the second within the first)."""
        return field_of(self.segment, 4)

    @property
    def containment(self) -> tuple[int, ...]:
        """OBX-4 as a path of numbers (empty when it is not dotted numbers)."""
        parts = self.sub_id.split(".")
        return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else ()


@dataclass(slots=True)
class SpecimenGroup:
    segment: hl7.Segment
    location: Location
    observations: list[ObservationGroup] = field(default_factory=list)


@dataclass(slots=True)
class OrderGroup:
    """One OBR with the ORC before it (if any), its comments, observations and specimens."""

    segment: hl7.Segment
    location: Location
    common_order: hl7.Segment | None
    notes: list[str] = field(default_factory=list)
    observations: list[ObservationGroup] = field(default_factory=list)
    specimens: list[SpecimenGroup] = field(default_factory=list)


def note_text(nte: hl7.Segment) -> str:
    """NTE-3, its repetitions one line each."""
    return "\n".join(field_of(nte, 3, 1, rep) for rep in range(1, repetitions(nte, 3) + 1)).strip()


def order_groups(message: hl7.Message) -> list[OrderGroup]:
    """The message's order groups in order; an OBX before any OBR is a segment sequence error (AE)."""
    orders: list[OrderGroup] = []
    counts: dict[str, int] = {}
    common_order: hl7.Segment | None = None
    # Where the next NTE belongs: the last OBR or OBX seen.
    notes_to: list[str] | None = None
    for segment in message:
        name = segment_id(segment)
        counts[name] = counts.get(name, 0) + 1
        here = Location(name, counts[name])
        if name == "ORC":
            common_order, notes_to = segment, None
        elif name == "OBR":
            orders.append(OrderGroup(segment, here, common_order))
            common_order, notes_to = None, orders[-1].notes
        elif name == "SPM":
            _current(orders, here).specimens.append(SpecimenGroup(segment, here))
            notes_to = None
        elif name == "OBX":
            order = _current(orders, here)
            observation = ObservationGroup(segment, here)
            (order.specimens[-1].observations if order.specimens else order.observations).append(observation)
            notes_to = observation.notes
        elif name == "NTE" and notes_to is not None:
            text = note_text(segment)
            if text:
                notes_to.append(text)
    return orders


def _current(orders: list[OrderGroup], here: Location) -> OrderGroup:
    if not orders:
        raise application_error(ErrorCode.SEGMENT_SEQUENCE, f"an {here.segment} comes before any OBR", here)
    return orders[-1]
