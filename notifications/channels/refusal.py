"""The error a channel raises when its provider answers, but not with success."""


class ProviderRefused(RuntimeError):
    """The provider answered, but not with success."""
