"""The live fan-out benchmark (`python -m bench.fanout`): devices -> Mosquitto -> ingest -> Redis -> hub -> dashboards."""
