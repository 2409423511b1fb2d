// The consult room over /ws/consult (protocol: realtime/consult/protocol.py): join, the waiting room,
// admission, one RTCPeerConnection per other participant with "perfect negotiation", and chat.
// The socket signs in again with a fresh token before each expiry, as the dashboard's does.

import { freshToken, keepSignedIn } from "../shared/socket-renewal.js";

const PING_INTERVAL_MS = 25_000;

export class ConsultRoom {
  /**
   * `handlers`: onJoined(participant), onWaiting(list), onAdmitted(), onRemoteStream(id, stream),
   * onPeerLeft(id), onChat(line), onEnded(reason), onError(detail), onClosed().
   * `options.guestTicket`: sign in with this ticket (a redeemed invitation) instead of the access token.
   */
  constructor(room, localStream, handlers, options = {}) {
    this.room = room;
    this.localStream = localStream;
    this.handlers = handlers;
    this.peers = new Map(); // participant id -> {pc, polite, makingOffer, ignoreOffer, info}
    this.iceServers = [];
    this.me = null;
    // Guests have no account: their ticket is their only credential, bound to this one room.
    this.guestTicket = options.guestTicket ?? null;
  }

  /** Opens the socket, authenticates (guest ticket, or a current access token) and joins the room. */
  async connect() {
    const token = this.guestTicket ?? (await freshToken());
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    this.ws = new WebSocket(`${scheme}://${window.location.host}/ws/consult`);
    this.ws.addEventListener("open", () => this.send({ type: "auth", token: token ?? "" }));
    this.ws.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    this.ws.addEventListener("close", (event) => this.closed(event));
    this.pinger = setInterval(() => this.send({ type: "ping" }), PING_INTERVAL_MS);
  }

  send(message) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** The connections of this room, for statistics. */
  connections() {
    return [...this.peers.values()].map((peer) => peer.pc);
  }

  admit(participantId) {
    this.send({ type: "admit", participant: participantId });
  }

  chat(text) {
    this.send({ type: "chat", text, client_id: crypto.randomUUID() });
  }

  end() {
    this.send({ type: "end" });
  }

  leave() {
    this.send({ type: "leave" });
    this.hangUpAll();
    this.ws?.close(1000);
  }

  async receive(message) {
    switch (message.type) {
      case "ready":
        // A renewed sign-in changes nothing else; the first one joins and starts the renewals.
        if (message.renewed) break;
        // A guest's ticket lasts until the room closes; renewing it with the tab's own sign-in (if
        // any) would be another user's token and close the socket.
        if (!this.guestTicket) keepSignedIn(this.ws);
        this.send({ type: "join", room: this.room });
        break;
      case "joined":
        this.me = message.participant;
        this.iceServers = message.ice_servers;
        this.handlers.onJoined?.(message.participant, message);
        break;
      case "waiting":
        this.handlers.onWaiting?.(message.waiting);
        break;
      case "admitted":
        this.handlers.onAdmitted?.();
        // The newcomer offers to everyone already in the room.
        for (const peer of message.peers) await this.offerTo(this.peerFor(peer.id, peer));
        break;
      case "peer-joined":
        this.peerFor(message.participant.id, message.participant);
        break;
      case "offer":
        await this.takeOffer(message);
        break;
      case "answer":
        await this.peers.get(message.from)?.pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
        break;
      case "ice":
        await this.takeCandidate(message);
        break;
      case "peer-left": {
        const info = this.peers.get(message.participant)?.info;
        this.hangUp(message.participant);
        this.handlers.onPeerLeft?.(message.participant, message.reason, info);
        break;
      }
      case "chat":
        this.handlers.onChat?.(message);
        break;
      case "removed":
      case "ended":
        this.hangUpAll();
        this.handlers.onEnded?.(message.reason ?? message.type);
        break;
      case "error":
        this.handlers.onError?.(message.detail, message);
        break;
      default:
        break;
    }
  }

  peerFor(id, info) {
    let peer = this.peers.get(id);
    if (peer) return peer;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    peer = { pc, polite: Boolean(info?.polite), makingOffer: false, ignoreOffer: false, info };
    this.peers.set(id, peer);
    for (const track of this.localStream.getTracks()) pc.addTrack(track, this.localStream);
    pc.addEventListener("icecandidate", (event) =>
      this.send({ type: "ice", to: id, candidate: event.candidate ? event.candidate.toJSON() : null }),
    );
    pc.addEventListener("track", (event) => {
      const stream = event.streams[0] ?? new MediaStream([event.track]);
      this.handlers.onRemoteStream?.(id, stream, info);
    });
    pc.addEventListener("connectionstatechange", () => {
      // A network change: ask for new candidates rather than dropping the call.
      if (pc.connectionState === "failed") this.offerTo(peer, "ice-restart");
    });
    return peer;
  }

  async offerTo(peer, purpose = "initial") {
    const id = [...this.peers.entries()].find(([, p]) => p === peer)?.[0];
    try {
      peer.makingOffer = true;
      if (purpose === "ice-restart") peer.pc.restartIce();
      await peer.pc.setLocalDescription();
      this.send({ type: "offer", to: id, sdp: peer.pc.localDescription.sdp, purpose });
    } finally {
      peer.makingOffer = false;
    }
  }

  async takeOffer(message) {
    const peer = this.peerFor(message.from, { polite: true });
    const collision = peer.makingOffer || peer.pc.signalingState !== "stable";
    peer.ignoreOffer = !peer.polite && collision;
    if (peer.ignoreOffer) return;
    // Polite: an offer of ours in flight is rolled back implicitly by applying theirs.
    await peer.pc.setRemoteDescription({ type: "offer", sdp: message.sdp });
    await peer.pc.setLocalDescription();
    this.send({ type: "answer", to: message.from, sdp: peer.pc.localDescription.sdp });
  }

  async takeCandidate(message) {
    const peer = this.peers.get(message.from);
    if (!peer) return;
    try {
      await peer.pc.addIceCandidate(message.candidate ?? null);
    } catch (error) {
      if (!peer.ignoreOffer) throw error;
    }
  }

  hangUp(id) {
    this.peers.get(id)?.pc.close();
    this.peers.delete(id);
  }

  hangUpAll() {
    for (const id of [...this.peers.keys()]) this.hangUp(id);
  }

  closed(event) {
    clearInterval(this.pinger);
    this.hangUpAll();
    this.handlers.onClosed?.(event.code, event.reason);
  }
}
