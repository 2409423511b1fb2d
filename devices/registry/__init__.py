"""The device registry: devices, credentials, patient and bed bindings, broker access control."""
