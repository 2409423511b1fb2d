"""IHE PCD-01 over MLLP: a monitor gateway's ORU^R01 with MDC codes, into the same ingest pipeline as MQTT.

Everything is real: the MLLP listener on loopback, the ingest worker writing to this run's
PostgreSQL, the live alarm evaluator, the bus. The messages follow the IHE PCD Technical
Framework's example structure (MSH-21 profile, PID, PV1, OBR, the MDS/VMD/channel/metric tree).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.bus import InProcessBus
from core.sessions import transaction
from devices.ingest.models import IngestDeadLetter
from devices.pcd.report import is_pcd01, read_report
from devices.protocol.pcd01 import Observation, pcd01_message
from devices.registry.models import Device, DeviceKind
from devices.simulator import ArtefactRates, SimulatedDevice, simulate
from devices.vitals.models import VitalReading
from edge.pcd_mllp import PcdMllpSender, eui64_for
from tests.devices.ingest_helpers import (
    GUARD_S,
    bind,
    new_patient,
    recent_start,
    register_devices,
    unique_device_id,
)
from tests.devices.pcd_helpers import MllpSender, ack_fields, new_eui64, pcd_listener

HR, SPO2, RR, SBP, DBP, MAP, TEMP, ETCO2 = (
    "8867-4",
    "59408-5",
    "9279-1",
    "8480-6",
    "8462-4",
    "8478-0",
    "8310-5",
    "19891-1",
)


def sick(at: datetime) -> list[Observation]:
    """NEWS2 high: fast pulse, fast breathing, low saturation, low pressure."""
    return [
        Observation(HR, 135, at),
        Observation(RR, 27, at),
        Observation(SPO2, 89, at),
        Observation(SBP, 88, at),
        Observation(DBP, 50, at),
        Observation(MAP, 63, at),
        Observation(TEMP, 38.9, at),
        Observation(ETCO2, 31, at),
    ]


async def monitored(sessions) -> tuple[str, object]:
    eui = new_eui64()
    rows = await register_devices(sessions, [eui])
    patient_id = await new_patient(sessions)
    await bind(sessions, rows[eui], patient_id, recent_start() - timedelta(hours=1))
    return eui, patient_id


async def stored(sessions, device_id: str) -> list[tuple[str, float, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(VitalReading.metric, VitalReading.value, VitalReading.unit)
            .where(VitalReading.device_id == device_id)
            .order_by(VitalReading.metric)
        )
        return [tuple(row) for row in rows]


async def dead_letters(sessions, control_id: str) -> list[IngestDeadLetter]:
    async with sessions() as session:
        rows = await session.scalars(
            select(IngestDeadLetter).where(IngestDeadLetter.topic.endswith(f"/{control_id}"))
        )
        return list(rows)


def test_the_containment_tree_and_codes_are_read() -> None:
    at = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)
    eui = "0123456789ABCDEF"
    raw = pcd01_message(eui64=eui, observations=sick(at), control_id="C1", bed=("ICU", "2", "23"))
    report = read_report(raw, now=at)
    assert report.problems == []
    assert report.point_of_care == ("ICU", "2", "23")
    readings = {(r.metric, r.value, r.unit) for r in report.readings[eui]}
    assert (SPO2, 89.0, "%") in readings and (ETCO2, 31.0, "mm[Hg]") in readings
    assert (TEMP, 38.9, "Cel") in readings and (MAP, 63.0, "mm[Hg]") in readings
    assert all(r.time == at for r in report.readings[eui])


async def test_a_pcd01_message_is_stored_once_shown_live_and_evaluated_for_alarms(settings, sessions) -> None:
    eui, patient_id = await monitored(sessions)
    bus = InProcessBus()
    at = recent_start(5)
    raw = pcd01_message(eui64=eui, observations=sick(at), control_id="PCD-1", version="2.6")
    async with (
        pcd_listener(settings.database_url, bus) as listener,
        bus.subscribe(channels=[f"vitals.patient.{patient_id}", f"alarms.patient.{patient_id}"]) as feed,
        MllpSender(listener.port) as sender,
    ):
        ack = ack_fields(await sender.exchange(raw))
        assert ack["MSA"][1:3] == ["AA", "PCD-1"]
        assert ack["MSH"][11] == "2.6" and ack["MSH"][8] == "ACK^R01^ACK"
        # Sent again (a gateway that missed the ACK): acknowledged, nothing stored twice.
        assert ack_fields(await sender.exchange(raw))["MSA"][1] == "AA"
        seen: dict[str, dict] = {}
        async with asyncio.timeout(GUARD_S):
            async for message in feed:
                kind = "alarm" if message.channel.startswith("alarms.") else "vitals"
                seen.setdefault(kind, message.data)
                if "alarm" in seen and "vitals" in seen:
                    break
    live = {(r["metric"], r["value"]) for r in seen["vitals"]["readings"]}
    assert (HR, 135.0) in live and (SPO2, 89.0) in live
    assert seen["vitals"]["patient_id"] == str(patient_id)
    assert seen["alarm"]["alarm"]["patient_id"] == str(patient_id)
    rows = await stored(sessions, eui)
    assert len(rows) == 8
    assert (ETCO2, 31.0, "mm[Hg]") in rows and (MAP, 63.0, "mm[Hg]") in rows


async def test_unknown_codes_are_dead_lettered_with_the_reason_and_the_rest_stored(
    settings, sessions
) -> None:
    eui, _patient_id = await monitored(sessions)
    at = recent_start(5)
    invasive = Observation("", 120, at, mdc=(150033, "MDC_PRESS_BLD_ART_SYS", 266016, "MDC_DIM_MMHG"))
    raw = pcd01_message(eui64=eui, observations=[Observation(HR, 80, at), invasive], control_id="PCD-2")
    async with (
        pcd_listener(settings.database_url, InProcessBus()) as listener,
        MllpSender(listener.port) as sender,
    ):
        ack = ack_fields(await sender.exchange(raw))
    assert ack["MSA"][1] == "AA"
    assert "150033" in ack["MSA"][3]
    assert await stored(sessions, eui) == [(HR, 80.0, "/min")]
    [letter] = await dead_letters(sessions, "PCD-2")
    assert letter.reason_code == "unknown-code"
    assert "150033 MDC_PRESS_BLD_ART_SYS is not mapped" in letter.reason
    assert b"MDC_PRESS_BLD_ART_SYS" in letter.payload  # the raw message is kept


async def test_nothing_storable_is_answered_ae_and_kept(settings, sessions) -> None:
    eui, _patient_id = await monitored(sessions)
    at = recent_start(5)
    odd_unit = Observation("", 80, at, mdc=(147842, "MDC_ECG_HEART_RATE", 262656, "MDC_DIM_DIMLESS"))
    impossible = Observation(SPO2, 140, at)
    raw = pcd01_message(eui64=eui, observations=[odd_unit, impossible], control_id="PCD-3", version="2.5")
    async with (
        pcd_listener(settings.database_url, InProcessBus()) as listener,
        MllpSender(listener.port) as sender,
    ):
        ack = ack_fields(await sender.exchange(raw))
    assert ack["MSA"][1] == "AE" and ack["MSH"][11] == "2.5"
    assert ack["ERR"][4] == "E"
    assert await stored(sessions, eui) == []
    [letter] = await dead_letters(sessions, "PCD-3")
    assert "unit 262656 MDC_DIM_DIMLESS is unknown" in letter.reason
    assert "spo2 140 % is physiologically impossible" in letter.reason


async def test_an_unregistered_device_is_dead_lettered_unless_its_bed_has_a_monitor_bound(
    settings, sessions
) -> None:
    at = recent_start(5)
    stranger = new_eui64()
    raw = pcd01_message(eui64=stranger, observations=[Observation(HR, 70, at)], control_id="PCD-4")
    async with (
        pcd_listener(settings.database_url, InProcessBus()) as listener,
        MllpSender(listener.port) as sender,
    ):
        ack = ack_fields(await sender.exchange(raw))
    assert ack["MSA"][1] == "AE"
    [letter] = await dead_letters(sessions, "PCD-4")
    assert letter.reason_code == "unknown-device" and stranger in letter.reason


async def test_a_device_registered_with_its_eui64_is_named_by_obx18(settings, sessions) -> None:
    # The registry holds the EUI-64 in its own column; the device's wire id is something else.
    device_id, eui = unique_device_id("pcd-eui"), new_eui64()
    rows = await register_devices(sessions, [device_id])
    async with transaction(sessions) as session:
        (await session.get(Device, rows[device_id])).eui64 = eui  # type: ignore[union-attr]
    patient_id = await new_patient(sessions)
    await bind(sessions, rows[device_id], patient_id, recent_start() - timedelta(hours=1))
    at = recent_start(5)
    # OBX-18 as a gateway may write it: lower case, on the MDS row.
    raw = pcd01_message(
        eui64=eui.lower(), observations=[Observation(SPO2, 96, at)], control_id="PCD-EUI", sender="GW"
    )
    async with (
        pcd_listener(settings.database_url, InProcessBus()) as listener,
        MllpSender(listener.port) as sender,
    ):
        assert ack_fields(await sender.exchange(raw))["MSA"][1] == "AA"
    assert await stored(sessions, device_id) == [(SPO2, 96.0, "%")]
    async with sessions() as session:
        owner = await session.scalar(
            select(VitalReading.patient_id).where(VitalReading.device_id == device_id)
        )
    assert owner == patient_id


async def test_a_broken_message_is_rejected_and_kept(settings, sessions) -> None:
    raw = "MSH|^~\\&|GW||OWNAT||20261207083000||ADT^A01|PCD-5|P|2.6\rOBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|97\r"
    async with (
        pcd_listener(settings.database_url, InProcessBus()) as listener,
        MllpSender(listener.port) as sender,
    ):
        ack = ack_fields(await sender.exchange(raw))
    assert ack["MSA"][1:3] == ["AR", "PCD-5"]
    [letter] = await dead_letters(sessions, "PCD-5")
    assert letter.reason_code == "malformed" and "ADT" in letter.reason


async def test_a_stream_is_acknowledged_in_order_while_frames_are_read_ahead(settings, sessions) -> None:
    eui, _patient_id = await monitored(sessions)
    start = recent_start(120)
    messages = [
        pcd01_message(
            eui64=eui,
            observations=[Observation(HR, 60 + n, start + timedelta(seconds=n))],
            control_id=f"S{n}",
        )
        for n in range(50)
    ]
    async with (
        pcd_listener(settings.database_url, InProcessBus()) as listener,
        MllpSender(listener.port) as sender,
    ):
        for message in messages:
            await sender.send(message)
        acks = [ack_fields(await sender.ack())["MSA"] for _ in messages]
    assert [a[2] for a in acks] == [f"S{n}" for n in range(50)]
    assert {a[1] for a in acks} == {"AA"}
    assert len(await stored(sessions, eui)) == 50


async def test_the_simulator_speaks_pcd01_to_a_device_registered_by_its_eui64_serial(
    settings, sessions
) -> None:
    """`ownat edge --simulate --pcd-mllp`'s sender: the monitor is found by the EUI-64 in its serial."""
    device_id = unique_device_id("pcdsim")
    async with transaction(sessions) as session:
        session.add(
            Device(
                id=uuid.uuid4(),
                created_at=datetime.now(UTC) - timedelta(days=1),
                device_id=device_id,
                kind=DeviceKind.BEDSIDE_MONITOR,
                manufacturer="Testmed",
                model="M1",
                serial=eui64_for(device_id),
            )
        )
    monitor = SimulatedDevice(device_id=device_id, kind="bedside_monitor")
    start = recent_start(30)
    # Clean signals: an artefact (a probe off, a lost reading) could leave a metric out of so few
    # seconds, and this test is about the PCD-01 path, not the artefacts.
    stream = simulate(
        [monitor], start, 1.0, artefacts=ArtefactRates.none(), until=start + timedelta(seconds=8)
    )

    async def messages():
        for item in stream:
            yield item

    async with pcd_listener(settings.database_url, InProcessBus()) as listener:
        sender = PcdMllpSender("127.0.0.1", listener.port)
        await sender.run(messages())
    assert sender.acknowledged >= 4 and sender.refused == 0
    metrics = {metric for metric, _value, _unit in await stored(sessions, device_id)}
    assert {HR, SPO2, RR} <= metrics


async def test_an_older_sender_is_answered_in_its_own_version(settings, sessions) -> None:
    """HL7 v2.3.1: the ACK's MSH-12 is 2.3.1 and its ERR uses that version's layout (ERR-1, ELD)."""
    at = recent_start(5)
    raw = pcd01_message(
        eui64=new_eui64(), observations=[Observation(HR, 70, at)], control_id="PCD-6", version="2.3.1"
    )
    async with (
        pcd_listener(settings.database_url, InProcessBus()) as listener,
        MllpSender(listener.port) as sender,
    ):
        ack = ack_fields(await sender.exchange(raw))
    assert ack["MSH"][11] == "2.3.1" and ack["MSA"][1:3] == ["AE", "PCD-6"]
    assert ack["ERR"][1].endswith("103&Table value not found&HL70357")


def test_a_lab_result_with_units_in_mdc_stays_a_lab_result() -> None:
    """Only an observation named in MDC (OBX-3) makes a device observation; MDC units (OBX-6) do not."""
    lab = (
        "MSH|^~\\&|LABSYS|CITYLAB|OWNAT|HOSPITAL|20250301090000+0000||ORU^R01^ORU_R01|C1|P|2.5\r"
        "OBX|1|NM|2345-7^Glucose^LN||130|262688^MDC_DIM_PERCENT^MDC|70-99|H|||F\r"
    )
    device = lab.replace("2345-7^Glucose^LN", "150456^MDC_PULS_OXIM_SAT_O2^MDC")
    assert not is_pcd01(lab)
    assert is_pcd01(device)
