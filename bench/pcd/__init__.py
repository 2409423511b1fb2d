"""IHE PCD-01 over MLLP against the MQTT path, in one run (`python -m bench.pcd`)."""
