"""Server-side WebRTC peers (aiortc): the pre-call echo check and recording with consent.

Every peer lives in the `PeerRegistry` the app's lifespan owns: limited in number
(`OWNAT_CONSULT_PEERS_MAX`), each closed when it expires, when its owner ends it, and at shutdown.
A peer answers one SDP offer over HTTP (non-trickle: the browser finishes gathering its candidates
first and aiortc always answers with all of its own), which needs no WebSocket state and works
behind any load balancer that keeps the peer's UDP reachable.
"""
