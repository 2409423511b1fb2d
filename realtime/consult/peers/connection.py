"""Making aiortc peer connections and answering a browser's offer."""

from __future__ import annotations

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

from core.errors import InvalidInput


def new_peer_connection(ice_urls: list[str]) -> RTCPeerConnection:
    """A peer connection with exactly these ICE servers.

    An empty list must stay empty: aiortc would otherwise reach out to a public STUN server, which a
    hospital network blocks and which would delay every answer by its timeout.
    """
    servers = [RTCIceServer(urls=url) for url in ice_urls]
    return RTCPeerConnection(RTCConfiguration(iceServers=servers))


async def accept_offer(connection: RTCPeerConnection, sdp: str) -> None:
    """Applies the browser's offer; InvalidInput if aiortc cannot parse or accept it."""
    try:
        await connection.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
    except (ValueError, KeyError, AttributeError) as error:
        # aiortc reports a malformed or unsupported SDP with these; the client must learn why.
        raise InvalidInput(f"The offer is not a usable SDP offer: {error}") from None
    if not any(t.kind in ("audio", "video") for t in connection.getTransceivers()):
        raise InvalidInput("The SDP offer has no audio or video: add the camera or microphone tracks first.")


async def answer(connection: RTCPeerConnection) -> str:
    """Creates and applies the answer; aiortc gathers every candidate before this returns."""
    local = await connection.createAnswer()
    await connection.setLocalDescription(local)
    return connection.localDescription.sdp
