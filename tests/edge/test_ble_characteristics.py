"""The Bluetooth health characteristics, parsed from byte sequences worked out from the specifications.

Every sequence below is derived by hand in its comment, from IEEE 11073-20601 (FLOAT, SFLOAT) and
the GATT Specification Supplement's layouts; fields are little-endian.
SFLOAT = 4-bit exponent | 12-bit mantissa; FLOAT = 8-bit exponent | 24-bit mantissa; both signed.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from edge.ble.characteristics import MalformedMeasurement, parse, uuid16
from edge.ble.numbers import SpecialValue, float32, sfloat

# 2026-12-07 09:30:15 as a Date Time: year 2026 = 0x07EA -> EA 07; month 12 = 0C; day 07;
# hours 09; minutes 30 = 1E; seconds 15 = 0F.
STAMP = bytes.fromhex("EA070C07091E0F")
BERLIN = ZoneInfo("Europe/Berlin")  # UTC+1 in December: the stamp is 08:30:15 UTC


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("7800", 120.0),  # exponent 0, mantissa 0x078 = 120
        ("6DF1", 36.5),  # 0xF16D: exponent 0xF = -1, mantissa 0x16D = 365 -> 36.5
        ("FB0F", -5.0),  # 0x0FFB: exponent 0, mantissa 0xFFB = -5 in 12-bit two's complement
        ("A0F0", 16.0),  # 0xF0A0: exponent -1, mantissa 160
        ("0120", 100.0),  # 0x2001: exponent 2, mantissa 1 -> 1e2
    ],
)
def test_sfloat_numbers(raw: str, value: float) -> None:
    assert sfloat(bytes.fromhex(raw)) == value


@pytest.mark.parametrize(
    ("raw", "special"),
    [
        ("FF07", SpecialValue.NAN),  # mantissa 0x07FF, exponent 0
        ("0008", SpecialValue.NRES),  # 0x0800
        ("FE07", SpecialValue.POSITIVE_INFINITY),  # 0x07FE
        ("0208", SpecialValue.NEGATIVE_INFINITY),  # 0x0802
        ("0108", SpecialValue.RESERVED),  # 0x0801
    ],
)
def test_sfloat_special_values_are_never_numbers(raw: str, special: SpecialValue) -> None:
    assert sfloat(bytes.fromhex(raw)) is special


def test_float_numbers_and_special_values() -> None:
    assert float32(bytes.fromhex("6C0100FF")) == 36.4  # 0xFF00016C: exponent -1, mantissa 364
    assert float32(bytes.fromhex("FEFFFFFF")) == -0.2  # 0xFFFFFFFE: exponent -1, mantissa -2
    assert float32(bytes.fromhex("FFFF7F00")) is SpecialValue.NAN  # 0x007FFFFF
    assert float32(bytes.fromhex("00008000")) is SpecialValue.NRES  # 0x00800000
    assert float32(bytes.fromhex("FEFF7F00")) is SpecialValue.POSITIVE_INFINITY  # 0x007FFFFE
    assert float32(bytes.fromhex("02008000")) is SpecialValue.NEGATIVE_INFINITY  # 0x00800002
    # A large exponent is a number, not a special value: 0x0200007F -> 127 * 10**2.
    assert not math.isnan(float32(bytes.fromhex("7F000002")))  # type: ignore[arg-type]


def test_heart_rate_with_contact_and_rr_intervals() -> None:
    # Flags 0x16: bit 1 contact detected, bit 2 contact supported, bit 4 RR intervals; uint8 rate.
    # 72 bpm = 0x48; one RR interval of 1024/1024 s = 0x0400 -> 00 04.
    measurement = parse(0x2A37, bytes.fromhex("16480004"))
    assert measurement.values == (("hr", 72.0, "/min"),)
    assert measurement.sensor_contact is True
    assert measurement.notes["rr_intervals_s"] == [1.0]
    assert measurement.time is None


def test_heart_rate_in_16_bits_and_without_contact() -> None:
    # Flags 0x01: rate as uint16: 300 = 0x012C -> 2C 01.
    assert parse("2a37", bytes.fromhex("012C01")).values == (("hr", 300.0, "/min"),)
    # Flags 0x04: contact detection supported, bit 1 clear: no contact, so no reading of 72.
    no_contact = parse(0x2A37, bytes.fromhex("0448"))
    assert no_contact.values == ()
    assert no_contact.sensor_contact is False
    assert "sensor contact not detected" in no_contact.missing[0]


def test_temperature_with_time_stamp_and_site() -> None:
    # Flags 0x06: Celsius, time stamp present, temperature type present.
    # 36.4 as FLOAT = 6C 01 00 FF; then STAMP; type 6 = mouth.
    measurement = parse(0x2A1C, bytes.fromhex("066C0100FF") + STAMP + b"\x06", BERLIN)
    assert measurement.values == (("temp", 36.4, "Cel"),)
    assert measurement.time == datetime(2026, 12, 7, 8, 30, 15, tzinfo=UTC)
    assert measurement.notes["site"] == "mouth"


def test_temperature_in_fahrenheit_and_as_nan() -> None:
    # Flags 0x01: Fahrenheit; 98.6 = mantissa 986 (0x0003DA), exponent -1 -> DA 03 00 FF.
    assert parse(0x2A1C, bytes.fromhex("01DA0300FF")).values == (("temp", 98.6, "[degF]"),)
    nan = parse(0x2A1C, bytes.fromhex("00FFFF7F00"))
    assert nan.values == ()
    assert nan.missing == ("temperature: NaN (no value)",)


def test_blood_pressure_with_time_stamp_and_pulse() -> None:
    # Flags 0x06: mmHg, time stamp, pulse rate. 120 = 78 00, 80 = 50 00, mean 93 = 5D 00,
    # STAMP, pulse 72 = 48 00.
    data = bytes.fromhex("06780050005D00") + STAMP + bytes.fromhex("4800")
    measurement = parse(0x2A35, data, UTC)
    assert measurement.values == (("sbp", 120.0, "mm[Hg]"), ("dbp", 80.0, "mm[Hg]"), ("hr", 72.0, "/min"))
    assert measurement.time == datetime(2026, 12, 7, 9, 30, 15, tzinfo=UTC)


def test_blood_pressure_in_kpa_with_special_values() -> None:
    # Flags 0x01: kPa. 16.0 = A0 F0 (exponent -1, mantissa 160); diastolic NRes = 00 08;
    # mean +INF = FE 07.
    measurement = parse(0x2A35, bytes.fromhex("01A0F00008FE07"))
    assert measurement.values == (("sbp", 16.0, "kPa"),)
    assert measurement.missing == (
        "diastolic: NRes (not at this resolution)",
        "mean arterial pressure: +INF (above the measuring range)",
    )


def test_plx_spot_check_and_a_disconnected_sensor() -> None:
    # Flags 0x00; SpO2 97 = 61 00, pulse rate 64 = 40 00.
    assert parse(0x2A5E, bytes.fromhex("0061004000")).values == (("spo2", 97.0, "%"), ("hr", 64.0, "/min"))
    # Flags 0x04: Device and Sensor Status (uint24) present; bit 15 "sensor disconnected" =
    # 0x008000 -> 00 80 00. The numbers are the device's last, not the patient's: none is kept.
    off = parse(0x2A5E, bytes.fromhex("0461004000008000"))
    assert off.values == ()
    assert off.sensor_contact is False
    assert "sensor disconnected" in off.missing[-1]


def test_plx_spot_check_whose_clock_is_not_set_has_no_time() -> None:
    # Flags 0x11: time stamp present, bit 4 "device clock is not set": the stamp means nothing.
    measurement = parse(0x2A5E, bytes.fromhex("1161004000") + STAMP)
    assert measurement.time is None
    assert measurement.values == (("spo2", 97.0, "%"), ("hr", 64.0, "/min"))


def test_plx_continuous_with_fast_values_and_unavailable_status() -> None:
    # Flags 0x01: SpO2PR-Fast present. Normal 95 = 5F 00, 70 = 46 00; fast 94 = 5E 00, 71 = 47 00.
    measurement = parse(0x2A5F, bytes.fromhex("015F0046005E004700"))
    assert measurement.values == (("spo2", 95.0, "%"), ("hr", 70.0, "/min"))
    assert measurement.notes["fast"] == (94.0, 71.0)
    # Flags 0x04: Measurement Status present; bit 13 "measurement unavailable" = 0x2000 -> 00 20.
    unavailable = parse(0x2A5F, bytes.fromhex("045F0046000020"))
    assert unavailable.values == ()
    assert "measurement unavailable" in unavailable.missing[-1]


def test_weight_in_si_and_imperial_units() -> None:
    # Flags 0x0A: SI, time stamp, BMI and height. 70.5 kg / 0.005 = 14100 = 0x3714 -> 14 37;
    # STAMP; BMI 23.0 -> 230 = E6 00; height 1.75 m / 0.001 = 1750 = 0x06D6 -> D6 06.
    measurement = parse(0x2A9D, bytes.fromhex("0A1437") + STAMP + bytes.fromhex("E600D606"))
    assert measurement.values == (("weight", 70.5, "kg"),)
    assert measurement.notes == {"bmi": 23.0, "height": "1.75 m"}
    # Flags 0x01: imperial. 155.5 lb / 0.01 = 15550 = 0x3CBE -> BE 3C.
    assert parse(0x2A9D, bytes.fromhex("01BE3C")).values == (("weight", 155.5, "[lb_av]"),)
    # 0xFFFF: "measurement unsuccessful".
    assert parse(0x2A9D, bytes.fromhex("00FFFF")).values == ()


def test_an_unknown_date_is_no_time_stamp() -> None:
    # Year 0 means unknown in the Date Time format: 00 00, then month, day, time.
    measurement = parse(0x2A9D, bytes.fromhex("021437") + bytes.fromhex("00000C07091E0F"))
    assert measurement.time is None


@pytest.mark.parametrize(
    ("characteristic", "raw", "reason"),
    [
        (0x2A35, "", "empty notification"),
        # Flags 0x02 announce a time stamp that is not there.
        (0x2A35, "02780050005D00", "end before the time stamp"),
        (0x2A37, "06480000", "left over"),  # two bytes after a uint8 rate, with no flag for them
        (0x2A37, "1648000400", "RR intervals announced"),  # 3 bytes: not whole intervals
        (0x2A1C, "026C0100FFEA070D07091E0F", "is not a date"),  # month 13
        (0x2A38, "01", "not a measurement Ownat reads"),  # Body Sensor Location
    ],
)
def test_malformed_notifications_are_refused_with_the_reason(
    characteristic: int, raw: str, reason: str
) -> None:
    with pytest.raises(MalformedMeasurement) as refused:
        parse(characteristic, bytes.fromhex(raw))
    assert reason in refused.value.reason


def test_characteristic_uuids_in_every_spelling() -> None:
    assert uuid16("00002a37-0000-1000-8000-00805f9b34fb") == uuid16("0x2A37") == uuid16(0x2A37) == 0x2A37
