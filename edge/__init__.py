"""The edge gateway near the devices: store-and-forward of readings to the MQTT broker.

Imports only `devices.protocol` from the platform, so it installs without the server's dependencies.
"""
