"""OAuth 2 errors (RFC 6749 section 5.2), answered as `{"error", "error_description"}` JSON."""

from __future__ import annotations


class OAuthError(Exception):
    """An OAuth error with its registered code; 401 for a client that failed to authenticate."""

    def __init__(
        self, error: str, description: str, *, status: int = 400, retry_after_s: int | None = None
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.retry_after_s = retry_after_s

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}
