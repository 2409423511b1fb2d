"""The edge gateway near the devices: store-and-forward of readings to the MQTT broker.

Imports only `devices.protocol` (the wire formats) and `devices.simulator` from the platform, so it
installs without the server's dependencies; the SDC consumer (`edge.sdc`, extra `sdc`) and the
Bluetooth radio (`edge.ble.radio`, extra `bluetooth`) load their libraries only when they run.
"""
