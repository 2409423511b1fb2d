"""Parsers of the Bluetooth SIG health measurement characteristics.

Each turns one notification (or indication) into a `Measurement`: the values Ownat stores, as
(metric alias, value, UCUM unit), the device's time stamp if it sent one, and the fields that had
no value with the reason (an IEEE 11073 special value, a status bit). A notification that does
not follow the characteristic's layout raises `MalformedMeasurement` with the reason: too short
for its flags, bytes left over, an impossible date.

Layouts are those of the GATT Specification Supplement (the characteristic definitions of the
Heart Rate, Health Thermometer, Blood Pressure, Pulse Oximeter and Weight Scale services): a flags
byte first, then the fields its bits announce, in order, little-endian.

The profiles' "Date Time" carries no time zone: it is the device's wall clock, so the parsers
take the zone that clock is set to (`clock`) and give times in UTC. A year, month or day of 0
means "unknown" in that format; such a stamp is treated as absent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from edge.ble.numbers import SpecialValue, float32, sfloat

HEART_RATE_MEASUREMENT = 0x2A37
TEMPERATURE_MEASUREMENT = 0x2A1C
BLOOD_PRESSURE_MEASUREMENT = 0x2A35
PLX_SPOT_CHECK_MEASUREMENT = 0x2A5E
PLX_CONTINUOUS_MEASUREMENT = 0x2A5F
WEIGHT_MEASUREMENT = 0x2A9D

# Health Thermometer's Temperature Type (GATT supplement, "Temperature Type").
TEMPERATURE_TYPES = {
    1: "armpit",
    2: "body (general)",
    3: "ear",
    4: "finger",
    5: "gastro-intestinal tract",
    6: "mouth",
    7: "rectum",
    8: "toe",
    9: "tympanum (ear drum)",
}

# PLX Measurement Status bits that mean the values are not a patient's measurement.
_PLX_NOT_A_MEASUREMENT = {
    10: "data for demonstration",
    11: "data for testing",
    13: "measurement unavailable",
    15: "invalid measurement detected",
}
# PLX Device and Sensor Status bits that mean the sensor is not reading the patient.
_PLX_SENSOR_OFF = {
    1: "equipment malfunction detected",
    11: "sensor unconnected to user",
    13: "sensor displaced",
    14: "sensor malfunctioning",
    15: "sensor disconnected",
}


class MalformedMeasurement(ValueError):
    """Bytes that do not follow the characteristic's layout; `reason` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one notification says."""

    characteristic: str
    values: tuple[tuple[str, float, str], ...]
    # The device's own time of the measurement, in UTC; None: the gateway stamps it on receipt.
    time: datetime | None = None
    # Fields that carried no value, and why: "diastolic: NaN (no value)".
    missing: tuple[str, ...] = ()
    # False when the device says its sensor is not on the patient (heart-rate contact, PLX sensor).
    sensor_contact: bool | None = None
    notes: dict[str, object] = field(default_factory=dict)


class _Reader:
    """Reads the fields of one notification in order, checking that each is there."""

    def __init__(self, name: str, data: bytes | bytearray) -> None:
        self.name = name
        self.data = bytes(data)
        self.offset = 0
        if not self.data:
            raise MalformedMeasurement(f"{name}: empty notification (the flags byte is missing)")

    def take(self, size: int, what: str) -> bytes:
        end = self.offset + size
        if end > len(self.data):
            raise MalformedMeasurement(
                f"{self.name}: {len(self.data)} bytes end before {what} "
                f"(bytes {self.offset}..{end - 1}, announced by flags 0x{self.data[0]:02x})"
            )
        chunk = self.data[self.offset : end]
        self.offset = end
        return chunk

    def uint(self, size: int, what: str) -> int:
        return int.from_bytes(self.take(size, what), "little")

    def sfloat(self, what: str) -> float | SpecialValue:
        return sfloat(self.take(2, what))

    def float32(self, what: str) -> float | SpecialValue:
        return float32(self.take(4, what))

    def date_time(self, clock: tzinfo) -> datetime | None:
        raw = self.take(7, "the time stamp")
        year = int.from_bytes(raw[0:2], "little")
        month, day, hour, minute, second = raw[2:7]
        if year == 0 or month == 0 or day == 0:
            return None
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=clock).astimezone(UTC)
        except ValueError as error:
            raise MalformedMeasurement(
                f"{self.name}: time stamp {year:04d}-{month:02d}-{day:02d} "
                f"{hour:02d}:{minute:02d}:{second:02d} is not a date and time ({error})"
            ) from None

    def done(self) -> None:
        if self.offset != len(self.data):
            raise MalformedMeasurement(
                f"{self.name}: {len(self.data) - self.offset} byte(s) left over after the fields "
                f"that flags 0x{self.data[0]:02x} announce ({len(self.data)} bytes, {self.offset} expected)"
            )


class _Values:
    """Collects values, turning special values into reasons instead of numbers."""

    def __init__(self) -> None:
        self.values: list[tuple[str, float, str]] = []
        self.missing: list[str] = []

    def add(self, label: str, alias: str | None, value: float | SpecialValue, unit: str) -> None:
        if isinstance(value, SpecialValue):
            self.missing.append(f"{label}: {value.value}")
        elif alias is not None:
            self.values.append((alias, value, unit))


def parse_heart_rate(data: bytes | bytearray, clock: tzinfo = UTC) -> Measurement:
    """Heart Rate Measurement (0x2A37): no time stamp, RR intervals kept as a note."""
    reader = _Reader("Heart Rate Measurement", data)
    flags = reader.uint(1, "the flags")
    wide = flags & 0x01
    rate = reader.uint(2 if wide else 1, "the heart rate")
    # Bits 1-2: bit 2 says contact detection is supported, bit 1 whether there is contact.
    contact = bool(flags & 0x02) if flags & 0x04 else None
    notes: dict[str, object] = {}
    if flags & 0x08:
        notes["energy_expended_kj"] = reader.uint(2, "the energy expended")
    if flags & 0x10:
        count, odd = divmod(len(reader.data) - reader.offset, 2)
        if count == 0 or odd:
            raise MalformedMeasurement(
                f"Heart Rate Measurement: RR intervals announced, but {len(reader.data) - reader.offset} "
                "byte(s) follow (a whole number of 2-byte intervals, at least one)"
            )
        # In units of 1/1024 s.
        notes["rr_intervals_s"] = [reader.uint(2, "an RR interval") / 1024 for _ in range(count)]
    reader.done()
    if contact is False:
        return Measurement(
            "Heart Rate Measurement",
            (),
            missing=(f"heart rate {rate}: sensor contact not detected",),
            sensor_contact=False,
            notes=notes,
        )
    return Measurement(
        "Heart Rate Measurement", (("hr", float(rate), "/min"),), sensor_contact=contact, notes=notes
    )


def parse_temperature(data: bytes | bytearray, clock: tzinfo = UTC) -> Measurement:
    """Temperature Measurement (0x2A1C), Health Thermometer service."""
    reader = _Reader("Temperature Measurement", data)
    flags = reader.uint(1, "the flags")
    value = reader.float32("the temperature")
    unit = "[degF]" if flags & 0x01 else "Cel"
    time = reader.date_time(clock) if flags & 0x02 else None
    notes: dict[str, object] = {}
    if flags & 0x04:
        kind = reader.uint(1, "the temperature type")
        notes["site"] = TEMPERATURE_TYPES.get(kind, f"reserved type {kind}")
    reader.done()
    values = _Values()
    values.add("temperature", "temp", value, unit)
    return Measurement(
        "Temperature Measurement", tuple(values.values), time, tuple(values.missing), notes=notes
    )


def parse_blood_pressure(data: bytes | bytearray, clock: tzinfo = UTC) -> Measurement:
    """Blood Pressure Measurement (0x2A35): systolic, diastolic, mean, then optional fields."""
    reader = _Reader("Blood Pressure Measurement", data)
    flags = reader.uint(1, "the flags")
    unit = "kPa" if flags & 0x01 else "mm[Hg]"
    systolic = reader.sfloat("the systolic pressure")
    diastolic = reader.sfloat("the diastolic pressure")
    mean = reader.sfloat("the mean arterial pressure")
    time = reader.date_time(clock) if flags & 0x02 else None
    pulse = reader.sfloat("the pulse rate") if flags & 0x04 else None
    notes: dict[str, object] = {}
    if flags & 0x08:
        notes["user"] = reader.uint(1, "the user id")
    if flags & 0x10:
        notes["measurement_status"] = reader.uint(2, "the measurement status")
    reader.done()
    values = _Values()
    values.add("systolic", "sbp", systolic, unit)
    values.add("diastolic", "dbp", diastolic, unit)
    # Ownat stores no mean arterial pressure yet: a number is dropped, a special value still explained.
    values.add("mean arterial pressure", None, mean, unit)
    if pulse is not None:
        values.add("pulse rate", "hr", pulse, "/min")
    return Measurement(
        "Blood Pressure Measurement", tuple(values.values), time, tuple(values.missing), notes=notes
    )


def _plx_status(
    reader: _Reader, measurement_status: bool, sensor_status: bool
) -> tuple[list[str], bool | None]:
    """Reasons the values are not the patient's, and whether the sensor is on the patient."""
    reasons: list[str] = []
    contact: bool | None = None
    if measurement_status:
        status = reader.uint(2, "the measurement status")
        reasons += [text for bit, text in _PLX_NOT_A_MEASUREMENT.items() if status >> bit & 1]
    if sensor_status:
        status = reader.uint(3, "the device and sensor status")
        off = [text for bit, text in _PLX_SENSOR_OFF.items() if status >> bit & 1]
        reasons += off
        contact = not off
    return reasons, contact


def _plx_values(
    name: str, spo2: float | SpecialValue, rate: float | SpecialValue, reasons: list[str]
) -> tuple[tuple[tuple[str, float, str], ...], tuple[str, ...]]:
    values = _Values()
    values.add("SpO2", "spo2", spo2, "%")
    values.add("pulse rate", "hr", rate, "/min")
    if reasons:
        # The device says these are no measurement of the patient: none is stored.
        return (), (*values.missing, f"{name}: {', '.join(reasons)}")
    return tuple(values.values), tuple(values.missing)


def parse_plx_spot_check(data: bytes | bytearray, clock: tzinfo = UTC) -> Measurement:
    """PLX Spot-check Measurement (0x2A5E), Pulse Oximeter service."""
    reader = _Reader("PLX Spot-check Measurement", data)
    flags = reader.uint(1, "the flags")
    spo2 = reader.sfloat("the SpO2")
    rate = reader.sfloat("the pulse rate")
    time = reader.date_time(clock) if flags & 0x01 else None
    reasons, contact = _plx_status(reader, bool(flags & 0x02), bool(flags & 0x04))
    notes: dict[str, object] = {}
    if flags & 0x08:
        notes["pulse_amplitude_index"] = reader.sfloat("the pulse amplitude index")
    reader.done()
    if flags & 0x10:
        # "Device clock is not set": its stamp is no time at all.
        time = None
    values, missing = _plx_values("spot-check", spo2, rate, reasons)
    return Measurement("PLX Spot-check Measurement", values, time, missing, contact, notes)


def parse_plx_continuous(data: bytes | bytearray, clock: tzinfo = UTC) -> Measurement:
    """PLX Continuous Measurement (0x2A5F): the normal SpO2/PR pair; fast and slow ones are notes."""
    reader = _Reader("PLX Continuous Measurement", data)
    flags = reader.uint(1, "the flags")
    spo2 = reader.sfloat("the SpO2")
    rate = reader.sfloat("the pulse rate")
    notes: dict[str, object] = {}
    if flags & 0x01:
        notes["fast"] = (reader.sfloat("the fast SpO2"), reader.sfloat("the fast pulse rate"))
    if flags & 0x02:
        notes["slow"] = (reader.sfloat("the slow SpO2"), reader.sfloat("the slow pulse rate"))
    reasons, contact = _plx_status(reader, bool(flags & 0x04), bool(flags & 0x08))
    if flags & 0x10:
        notes["pulse_amplitude_index"] = reader.sfloat("the pulse amplitude index")
    reader.done()
    values, missing = _plx_values("continuous", spo2, rate, reasons)
    return Measurement("PLX Continuous Measurement", values, None, missing, contact, notes)


def parse_weight(data: bytes | bytearray, clock: tzinfo = UTC) -> Measurement:
    """Weight Measurement (0x2A9D), Weight Scale service: an unsigned 16-bit count of resolution steps."""
    reader = _Reader("Weight Measurement", data)
    flags = reader.uint(1, "the flags")
    imperial = flags & 0x01
    raw = reader.uint(2, "the weight")
    time = reader.date_time(clock) if flags & 0x02 else None
    notes: dict[str, object] = {}
    if flags & 0x04:
        notes["user"] = reader.uint(1, "the user id")
    if flags & 0x08:
        notes["bmi"] = reader.uint(2, "the BMI") / 10
        height = reader.uint(2, "the height")
        notes["height"] = f"{height / 10:g} [in_i]" if imperial else f"{height / 1000:g} m"
    reader.done()
    if raw == 0xFFFF:
        return Measurement(
            "Weight Measurement", (), time, ("weight: measurement unsuccessful (0xFFFF)",), notes=notes
        )
    # Resolution: 0.005 kg in SI, 0.01 lb in imperial units.
    value = round(raw * 0.01, 2) if imperial else round(raw * 0.005, 3)
    unit = "[lb_av]" if imperial else "kg"
    return Measurement("Weight Measurement", (("weight", value, unit),), time, notes=notes)


Parser = Callable[[bytes | bytearray, tzinfo], Measurement]

PARSERS: dict[int, Parser] = {
    HEART_RATE_MEASUREMENT: parse_heart_rate,
    TEMPERATURE_MEASUREMENT: parse_temperature,
    BLOOD_PRESSURE_MEASUREMENT: parse_blood_pressure,
    PLX_SPOT_CHECK_MEASUREMENT: parse_plx_spot_check,
    PLX_CONTINUOUS_MEASUREMENT: parse_plx_continuous,
    WEIGHT_MEASUREMENT: parse_weight,
}


def uuid16(uuid: int | str) -> int:
    """The 16-bit number of a SIG characteristic UUID: 0x2A37, "2a37" or its 128-bit form."""
    if isinstance(uuid, int):
        return uuid
    text = uuid.lower().removeprefix("0x")
    if len(text) == 36 and text.endswith("-0000-1000-8000-00805f9b34fb"):
        text = text[4:8]
    return int(text, 16)


def parse(characteristic: int | str, data: bytes | bytearray, clock: tzinfo = UTC) -> Measurement:
    """The measurement in a notification of `characteristic`; MalformedMeasurement when unreadable."""
    number = uuid16(characteristic)
    parser = PARSERS.get(number)
    if parser is None:
        known = ", ".join(f"0x{n:04X}" for n in PARSERS)
        raise MalformedMeasurement(
            f"characteristic 0x{number:04X} is not a measurement Ownat reads ({known})"
        )
    return parser(data, clock)
