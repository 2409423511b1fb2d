"""The consultation benchmark: admission-to-media latency and signalling capacity of one api instance."""
