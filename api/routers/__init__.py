"""One module per domain; each exposes `router` (authenticated) and, if it has any, `public_router`."""
