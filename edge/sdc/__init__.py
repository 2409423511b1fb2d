"""IEEE 11073 SDC at the edge: a consumer of SDC providers (`consumer`), their states mapped to the
edge's messages (`mapping`), and a simulated SDC monitor for the demo and the tests (`provider`).

Needs the optional `sdc11073` (`pip install 'ownat[sdc]'`); only `mapping` loads without it.
"""
