"""Live care: alarm rules and NEWS2, the WebSocket hub, consult rooms and WebRTC signalling."""
