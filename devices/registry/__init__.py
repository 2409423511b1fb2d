"""The device registry: devices, their broker secrets, their bindings to patients and beds, and the
broker's access control kept in step with it.

- `models`, `schemas`; `access` (who may do what); `service` (register, read, list, edit);
  `lifecycle` (secrets, revoke, deactivate, activate); `binding_service` (bind, unbind, read bindings);
- `bindings`: what ingestion reads (known devices, binding spans for attribution by time);
- `credentials` (secrets and their Mosquitto-compatible hashes); `dynsec` (roles and ACLs);
  `dynsec_client`, `broker_access` (live updates), `broker_sync` (the full sync), `broker_config`
  (the broker's files), `broker_jobs` (what `ownat broker-config`, in `ownat.processes.broker_config`, runs).
"""
