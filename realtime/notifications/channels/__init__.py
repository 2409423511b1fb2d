"""The channels' senders: each raises on failure and returns when the provider has accepted the message."""


class ProviderRefused(RuntimeError):
    """The provider answered, but not with success."""
