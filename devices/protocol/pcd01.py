"""Writing IHE PCD-01 ORU^R01 messages, as a monitor gateway sends them (the simulator, tests, bench).

The edge gateway imports it: the standard library, the MQTT wire format and the shared MDC table
(`devices.protocol.mdc`) only. The structure follows the IHE PCD Technical Framework's examples: MSH with the
PCD-01 profile in MSH-21, PID, PV1 with the bed, one OBR, then the containment tree in OBX-4: the
MDS row carrying the device's EUI-64 in OBX-18, one VMD and one channel per kind of measurement,
and the metrics under them with MDC codes and units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from devices.protocol import mdc
from devices.protocol.mqtt import metric_spec

PROFILE = "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"
START_BLOCK, END_BLOCK = b"\x0b", b"\x1c\x0d"

# Ownat metric (LOINC) -> (MDC unit reference id, VMD) a monitor sends it in; the term is the
# metric's first in the shared table `mdc`, the numeric codes come from there too.
_SENT_AS = {
    "8867-4": ("MDC_DIM_BEAT_PER_MIN", "ECG"),
    "59408-5": ("MDC_DIM_PERCENT", "PULS_OXIM"),
    "8889-8": ("MDC_DIM_BEAT_PER_MIN", "PULS_OXIM"),
    "8480-6": ("MDC_DIM_MMHG", "NIBP"),
    "8462-4": ("MDC_DIM_MMHG", "NIBP"),
    "8478-0": ("MDC_DIM_MMHG", "NIBP"),
    "9279-1": ("MDC_DIM_RESP_PER_MIN", "RESP"),
    "8310-5": ("MDC_DIM_DEGC", "TEMP"),
    "19891-1": ("MDC_DIM_MMHG", "CO2"),
}


def _coded(loinc: str, unit_refid: str, vmd: str) -> tuple[int, str, int, str, str]:
    term = mdc.metric_of_alias(metric_spec(loinc).alias)
    unit = mdc.unit_for(unit_refid)
    assert term is not None and unit is not None, loinc  # the table and _SENT_AS agree (tested)
    return term.code, term.refid, unit.code, unit.refid, vmd


# Ownat metric (LOINC) -> (MDC code, reference id, MDC unit code, unit reference id, VMD).
_MDC_OF = {loinc: _coded(loinc, unit, vmd) for loinc, (unit, vmd) in _SENT_AS.items()}
# Virtual medical devices: (MDC code, reference id) of the VMD and of its channel.
_VMD = {
    "ECG": ((69798, "MDC_DEV_ECG_VMD"), (69799, "MDC_DEV_ECG_CHAN")),
    "PULS_OXIM": ((69642, "MDC_DEV_ANALY_SAT_O2_VMD"), (69643, "MDC_DEV_ANALY_SAT_O2_CHAN")),
    "NIBP": ((69738, "MDC_DEV_PRESS_BLD_NONINV_VMD"), (69739, "MDC_DEV_PRESS_BLD_NONINV_CHAN")),
    "RESP": ((69854, "MDC_DEV_RESP_RATE_VMD"), (69855, "MDC_DEV_RESP_RATE_CHAN")),
    "TEMP": ((69710, "MDC_DEV_TEMP_VMD"), (69711, "MDC_DEV_TEMP_CHAN")),
    "CO2": (
        (69634, "MDC_DEV_ANALY_CONC_GAS_MULTI_PARAM_VMD"),
        (69635, "MDC_DEV_ANALY_CONC_GAS_MULTI_PARAM_CHAN"),
    ),
}
_MDS = (69965, "MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS")


@dataclass(frozen=True, slots=True)
class Observation:
    """One value to send: an Ownat metric (LOINC) in its stored unit, or a raw MDC code for tests."""

    metric: str
    value: float
    time: datetime
    mdc: tuple[int, str, int, str] | None = None  # (code, ref id, unit code, unit ref id) to force


def dtm(moment: datetime) -> str:
    """An HL7 DTM in UTC with its offset, to the millisecond."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y%m%d%H%M%S") + f".{moment.microsecond // 1000:03d}+0000"


def pcd01_message(
    *,
    eui64: str,
    observations: Sequence[Observation],
    control_id: str,
    patient: str = "",
    bed: tuple[str, str, str] = ("", "", ""),
    version: str = "2.6",
    sent_at: datetime | None = None,
    sender: str = "OWNAT_SIM",
) -> str:
    """One PCD-01 ORU^R01 (segments separated by CR) carrying `observations` of device `eui64`."""
    sent = dtm(sent_at or datetime.now(UTC))
    segments = [
        f"MSH|^~\\&|{sender}^{eui64}^EUI-64||OWNAT||{sent}||ORU^R01^ORU_R01|{control_id}|P|{version}"
        f"|||NE|AL||UNICODE UTF-8|||{PROFILE}",
        f"PID|||{patient}^^^OWNAT^MR||^^^^^^U" if patient else "PID|||||^^^^^^U",
        f"PV1||I|{'^'.join(bed)}",
        f"OBR|1|{control_id}^{sender}^{eui64}^EUI-64||182777000^monitoring of patient^SNOMED-CT|||{sent}",
        f"OBX|1||{_MDS[0]}^{_MDS[1]}^MDC|1.0.0.0|||||||X|||||||{eui64}^EUI-64",
    ]
    vmds: dict[str, int] = {}
    metrics_in: dict[str, int] = {}
    for observation in observations:
        code, ref_id, unit_code, unit_ref, vmd = _mdc(observation)
        if vmd not in vmds:
            vmds[vmd] = len(vmds) + 1
            (vmd_code, vmd_ref), (chan_code, chan_ref) = _VMD.get(vmd, _VMD["ECG"])
            index = vmds[vmd]
            segments.append(f"OBX|{len(segments) - 3}||{vmd_code}^{vmd_ref}^MDC|1.{index}.0.0|||||||X")
            segments.append(f"OBX|{len(segments) - 3}||{chan_code}^{chan_ref}^MDC|1.{index}.1.0|||||||X")
        metrics_in[vmd] = metrics_in.get(vmd, 0) + 1
        segments.append(
            f"OBX|{len(segments) - 3}|NM|{code}^{ref_id}^MDC|1.{vmds[vmd]}.1.{metrics_in[vmd]}|"
            f"{observation.value:g}|{unit_code}^{unit_ref}^MDC|||||R|||{dtm(observation.time)}"
        )
    return "\r".join(segments) + "\r"


def _mdc(observation: Observation) -> tuple[int, str, int, str, str]:
    if observation.mdc is not None:
        code, ref_id, unit_code, unit_ref = observation.mdc
        return code, ref_id, unit_code, unit_ref, "ECG"
    return _MDC_OF[observation.metric]


def mdc_of(metric: str) -> tuple[int, str, int, str] | None:
    """(MDC code, reference id, MDC unit code, unit reference id) of an Ownat metric, if it has one."""
    found = _MDC_OF.get(metric)
    return None if found is None else found[:4]


def can_send(metric: str) -> bool:
    """Whether `pcd01_message` can write this Ownat metric as an MDC observation."""
    return metric in _MDC_OF


def frame(message: str) -> bytes:
    """The message in MLLP framing."""
    return START_BLOCK + message.encode("utf-8") + END_BLOCK
