"""Video consultations: consult rooms of video appointments and their WebRTC signalling.

Signalling has its own endpoint, `/ws/consult`, rather than riding on the monitoring hub at `/ws`:
the hub is a one-way, coalescing, drop-when-slow fan-out of vitals to dashboards, while signalling
is a two-way, lossless, ordered exchange between a few named peers (an SDP or ICE candidate must
never be coalesced or dropped), with its own authorisation (appointment participants and invited
guests, not ward scopes), its own limits (SDP-sized messages) and its own life cycle (rooms).
Both authenticate the same way: the first message carries the token, never the URL.
"""
