"""The device registry: devices, their broker secrets, their bindings to patients and beds, and the
broker's access control kept in step with it.

- `models`, `schemas`; `access` (who may do what); `service` (register, read, list, edit);
  `lifecycle` (secrets, revoke, deactivate, activate); `binding_service` (bind, unbind, read bindings);
- `bindings`: what ingestion reads (known devices, binding spans for attribution by time);
- `credentials` (secrets and their Mosquitto-compatible hashes); `dynsec` (roles and ACLs);
  `dynsec_client`, `broker_access` (live updates), `broker_sync` (the full sync), `broker_config`
  (the broker's files), `broker_jobs` (what `ownat broker-config`, in `ownat.processes.broker_config`, runs).

Offers the registry's service functions and schemas, what ingestion and alarms read (`BindingSpan`,
`load_binding_spans`, `span_at`, `known_device_ids`, `current_at`), and the broker's accounts for
`ownat api` and `ownat broker-config` (`load_broker_settings`, `broker_access_from`, `BrokerAccess`,
`write_config`, `sync_once`, `sync_periodically`, `BrokerLayout`).
"""

from devices.registry.binding_service import (
    bind_device,
    end_binding,
    list_device_bindings,
    list_patient_devices,
)
from devices.registry.bindings import BindingSpan, known_device_ids, load_binding_spans, span_at
from devices.registry.broker_access import BrokerAccess
from devices.registry.broker_config import CONTAINER_DATA_DIR, CONTAINER_PLUGIN, BrokerLayout
from devices.registry.broker_jobs import sync_once, sync_periodically, write_config
from devices.registry.broker_settings import account_of, broker_access_from, load_broker_settings
from devices.registry.dynsec import Account
from devices.registry.dynsec_client import BrokerAdminError
from devices.registry.lifecycle import activate_device, deactivate_device, issue_credential, revoke_device

# Exposed for joins: FHIR Device, PCD-01 identification, vitals coverage and the demo read devices and bindings.
from devices.registry.models import Device, DeviceBinding, DeviceKind, DeviceStatus
from devices.registry.reads import current_at
from devices.registry.schemas import (
    BindingCreate,
    BindingEnd,
    BindingRead,
    CredentialIssued,
    DeviceCreate,
    DevicePage,
    DeviceRead,
    DeviceUpdate,
    PatientDeviceRead,
    StatusChange,
)
from devices.registry.service import MAX_PAGE_SIZE, get_device, list_devices, register_device, update_device

__all__ = [
    "CONTAINER_DATA_DIR",
    "CONTAINER_PLUGIN",
    "MAX_PAGE_SIZE",
    "Account",
    "BindingCreate",
    "BindingEnd",
    "BindingRead",
    "BindingSpan",
    "BrokerAccess",
    "BrokerAdminError",
    "BrokerLayout",
    "CredentialIssued",
    "Device",
    "DeviceBinding",
    "DeviceCreate",
    "DeviceKind",
    "DevicePage",
    "DeviceRead",
    "DeviceStatus",
    "DeviceUpdate",
    "PatientDeviceRead",
    "StatusChange",
    "account_of",
    "activate_device",
    "bind_device",
    "broker_access_from",
    "current_at",
    "deactivate_device",
    "end_binding",
    "get_device",
    "issue_credential",
    "known_device_ids",
    "list_device_bindings",
    "list_devices",
    "list_patient_devices",
    "load_binding_spans",
    "load_broker_settings",
    "register_device",
    "revoke_device",
    "span_at",
    "sync_once",
    "sync_periodically",
    "update_device",
    "write_config",
]
