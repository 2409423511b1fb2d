"""A simulated SDC bedside monitor: sdc11073's own provider serving Ownat's simulated patient.

`ownat edge --simulate-sdc N` runs N of them and consumes them through `edge.sdc.consumer`, so the
demo and the tests go through the whole SDC path: MDIB, subscription, episodic reports, MDC codes.
The monitor's description is `monitor_mdib.xml` beside this file (heart rate, SpO2, respiration
rate, NIBP with its mean, temperature, an invasive arterial pressure and a text metric Ownat does
not store, a low-SpO2 limit alert and a lead-off technical alert). Values come from `devices.simulator`, the same physiology as the MQTT simulator;
the monitor raises its SpO2 alert itself below `SPO2_ALERT_BELOW`, as a real one would.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from devices.protocol import METRICS_BY_KEY
from devices.simulator import SimulatedDevice, paced_blocking, simulate

logger = logging.getLogger(__name__)

MDIB_FILE = Path(__file__).with_name("monitor_mdib.xml")
# Ownat metric alias -> the handle of its numeric metric in MDIB_FILE.
HANDLES = {
    "hr": "m.hr",
    "spo2": "m.spo2",
    "rr": "m.rr",
    "sbp": "m.nibp.sys",
    "dbp": "m.nibp.dia",
    "map": "m.nibp.mean",
    "temp": "m.temp",
}
SPO2_ALERT = "ac.spo2.low"
LEAD_OFF_ALERT = "ac.leadoff"
SPO2_ALERT_BELOW = 90.0


class SimulatedSdcMonitor:
    """One SDC provider on `interface`, discoverable by its endpoint reference `epr`."""

    def __init__(
        self, *, interface: str = "127.0.0.1", epr: uuid.UUID | None = None, serial: str = "OWNAT-SIM"
    ) -> None:
        self.interface = interface
        self.epr = epr or uuid.uuid4()
        self.serial = serial
        self._discovery: Any = None
        self._provider: Any = None
        self._alerts: dict[str, bool] = {}

    @property
    def epr_urn(self) -> str:
        return self.epr.urn

    @property
    def address(self) -> str:
        """The transport address a consumer connects to (a new port at each start)."""
        return str(self._provider.get_xaddrs()[0])

    def start(self) -> SimulatedSdcMonitor:
        from sdc11073.mdib import ProviderMdib
        from sdc11073.provider import SdcProvider
        from sdc11073.wsdiscovery import WSDiscovery
        from sdc11073.xml_types.dpws_types import ThisDeviceType, ThisModelType

        self._discovery = WSDiscovery(self.interface)
        self._discovery.start()
        mdib = ProviderMdib.from_mdib_file(str(MDIB_FILE))
        model = ThisModelType(
            manufacturer="Ownat",
            manufacturer_url="https://github.com/ownat",
            model_name="Simulated bedside monitor",
            model_number="1",
            model_url="https://github.com/ownat",
            presentation_url="https://github.com/ownat",
        )
        device = ThisDeviceType(
            friendly_name="Ownat simulated monitor", firmware_version="1", serial_number=self.serial
        )
        self._provider = SdcProvider(self._discovery, model, device, mdib, epr=self.epr)
        # No waveforms: Ownat takes numerics and alerts.
        self._provider.start_all(start_rtsample_loop=False)
        self._provider.publish()
        self._alerts = {}
        logger.info("simulated SDC monitor %s at %s", self.epr_urn, self.address)
        return self

    def stop(self, *, announce: bool = True) -> None:
        """Stops serving; consumers get a SubscriptionEnd, as from a monitor switched off.

        `announce=False`: they get nothing, as from a monitor whose cable was pulled.
        """
        if self._provider is not None:
            self._provider.stop_all(send_subscription_end=announce)
            self._provider = None
        if self._discovery is not None:
            self._discovery.stop()
            self._discovery = None

    def set_values(
        self, values: Mapping[str, float], at: datetime | None = None, *, validity: str = "Vld"
    ) -> None:
        """Sets numeric metrics (by Ownat alias) in one MDIB transaction: one episodic report."""
        self.set_metrics({HANDLES[alias]: value for alias, value in values.items()}, at, validity=validity)
        if "spo2" in values:
            self.set_alert(SPO2_ALERT, values["spo2"] < SPO2_ALERT_BELOW)

    def set_metrics(
        self, values: Mapping[str, float], at: datetime | None = None, *, validity: str = "Vld"
    ) -> None:
        """Sets numeric metrics by handle (any in MDIB_FILE) in one MDIB transaction."""
        from sdc11073.xml_types import pm_types

        stamp = (at or datetime.now(UTC)).timestamp()
        mdib = self._provider.mdib
        with mdib.metric_state_transaction() as transaction:
            for handle, value in values.items():
                state = transaction.get_state(handle)
                if state.MetricValue is None:
                    state.mk_metric_value()
                state.MetricValue.Value = Decimal(str(value))
                state.MetricValue.DeterminationTime = stamp
                state.MetricValue.MetricQuality.Validity = pm_types.MeasurementValidity(validity)
                state.ActivationState = pm_types.ComponentActivation.ON

    def set_alert(self, handle: str, present: bool) -> None:
        """Starts or ends an alert condition (nothing is sent when it does not change)."""
        from sdc11073.xml_types import pm_types

        if self._alerts.get(handle, False) == present:
            return
        self._alerts[handle] = present
        with self._provider.mdib.alert_state_transaction() as transaction:
            state = transaction.get_state(handle)
            state.ActivationState = pm_types.AlertActivation.ON
            state.Presence = present


def feed_simulated_patient(
    monitor: SimulatedSdcMonitor,
    device: SimulatedDevice,
    stop: threading.Event,
    *,
    seed: int = 0,
    step_s: float = 1.0,
) -> None:
    """Writes the simulated patient's readings into the monitor, paced in real time, until `stop` (a thread)."""
    stream = simulate([device], datetime.now(UTC), step_s, seed=seed)
    for _device_id, message in paced_blocking(stream, stop=stop):
        by_time: dict[datetime, dict[str, float]] = {}
        for reading in message.readings:
            alias = METRICS_BY_KEY[reading.metric].alias
            if alias in HANDLES:
                by_time.setdefault(reading.time, {})[alias] = reading.value
        for at, values in by_time.items():
            if "sbp" in values and "dbp" in values:
                # The monitor's NIBP gives a mean with each measurement; the simulator has none.
                values["map"] = round((values["sbp"] + 2 * values["dbp"]) / 3)
            monitor.set_values(values, at)


class SimulatedMonitors:
    """Simulated monitors with their patients: started before the consumer connects, stopped after."""

    def __init__(
        self,
        pairs: Sequence[tuple[SimulatedSdcMonitor, SimulatedDevice]],
        *,
        seed: int = 0,
        step_s: float = 1.0,
    ) -> None:
        self.pairs = list(pairs)
        self.seed = seed
        self.step_s = step_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stop.clear()
        for monitor, patient in self.pairs:
            monitor.start()
            thread = threading.Thread(
                target=feed_simulated_patient,
                args=(monitor, patient, self._stop),
                kwargs={"seed": self.seed, "step_s": self.step_s},
                name=f"sdc simulated {patient.device_id}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()
        for monitor, _patient in self.pairs:
            monitor.stop()
