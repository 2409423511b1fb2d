"""MQTT broker plumbing: the embedded broker of `ownat dev` and the readiness probe for any broker.

`embedded` runs a small MQTT 3.1.1 broker inside the event loop; `probe` checks that a broker
answers a real CONNECT. Both share the wire codec in `framing` and `packets`.
"""
