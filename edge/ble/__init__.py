"""Bluetooth LE health devices at the edge: the SIG health profiles' characteristics, parsed.

`edge.ble.numbers` decodes IEEE 11073-20601 FLOAT and SFLOAT, `edge.ble.characteristics` the
measurement characteristics (Heart Rate, Health Thermometer, Blood Pressure, Pulse Oximeter, Weight
Scale), and `edge.ble.driver` turns notifications into the edge's messages; only
`edge.ble.radio` needs `bleak` and a Bluetooth adapter.
"""
