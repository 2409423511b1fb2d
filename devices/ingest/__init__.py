"""MQTT ingestion (`ownat ingest`): validate, batch-write, acknowledge, publish live, dead-letter the rest.

Modules: `mqtt` (paho on its own thread, MQTT 5 or 3.1.1, manual acknowledgement), `decode` and
`classify` (the wire format's rules, fast), `attribution` (device -> patient at the reading's time),
`store` (one transaction per batch: COPY on PostgreSQL, INSERT OR IGNORE on SQLite), `worker` (the
pipeline and its delivery guarantees), `fanout` (the bus), `upkeep` (bindings, rollups, partitions),
`metrics`, `observer_thread`. The process, `ownat ingest`, is composed in `ownat.processes.ingest`.

Bus channels, published after the commit of each batch (JSON; times ISO 8601 with offset):

- `vitals.device.{device_id}`, and when the device is bound also `vitals.patient.{patient_id}`:
  `{"device_id", "patient_id", "bed_id", "ward_id",
  "readings": [{"metric": LOINC code, "value": float in `unit`, "unit": UCUM, "time"}]}`. Under load
  one message may carry several batches' readings of a device (see `fanout`).
- `vitals.ward.{ward_id}`: one message per ward and round, `{"ward_id", "devices": [...]}`, holding
  the message above of each of the ward's devices that had readings.
- `devices.status.{device_id}`: `{"device_id", "online", "time", "battery_pct", "sensor_off", "firmware"}`.
- `devices.event.{device_id}`: `{"device_id", "seq", "time", "code", "severity", "detail"}`.

Offers the worker and its configuration (`IngestWorker`, `IngestConfig`, `BatchObserver`, run on its
own thread by `ObserverThread`), the batch types other intakes feed it (`Received`, `Classified`),
the MQTT consumer and client, the metrics and `ingest_status` for the system page.
"""

from devices.ingest.batch import LOCAL, Classified, Received, WriteBatch
from devices.ingest.config import IngestConfig
from devices.ingest.decode import DecodedReading
from devices.ingest.metrics import IngestMetrics
from devices.ingest.mqtt import MqttConsumer, SubscriptionOptions
from devices.ingest.mqtt_client import BufferedClient
from devices.ingest.observer_thread import ObserverThread
from devices.ingest.status import IngestStatus, ingest_status
from devices.ingest.worker import BatchObserver, IngestWorker

__all__ = [
    "LOCAL",
    "BatchObserver",
    "BufferedClient",
    "Classified",
    "DecodedReading",
    "IngestConfig",
    "IngestMetrics",
    "IngestStatus",
    "IngestWorker",
    "MqttConsumer",
    "ObserverThread",
    "Received",
    "SubscriptionOptions",
    "WriteBatch",
    "ingest_status",
]
