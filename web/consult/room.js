// The consult room over /ws/consult (protocol: realtime/consult/protocol.py): join, the waiting room,
// admission, one RTCPeerConnection per other participant with "perfect negotiation", chat, and
// whether each one's microphone and camera are on. A dropped socket is reopened with backoff and the
// room joined again (someone admitted before comes straight back in). The socket signs in again with
// a fresh token before each expiry, as the dashboard's does.

import { freshToken, keepSignedIn } from "../shared/socket-renewal.js";

const PING_INTERVAL_MS = 25_000;
// No word from the server for this long (pongs included): the socket is dead even if not closed.
const SILENCE_LIMIT_MS = 2.5 * PING_INTERVAL_MS;
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;
// Close codes after which coming back makes no sense: not signed in, removed, replaced by another
// tab, the consultation ended. Any other close (network, restart, token expiry) is reconnected.
const FINAL_CLOSES = new Set([4401, 4403, 4409, 4410]);
const KINDS = ["audio", "video"];

export class ConsultRoom {
  /**
   * `media`: the LocalMedia whose tracks are sent. `handlers`: onJoined(participant), onWaiting(list),
   * onAdmitted(), onRemoteStream(id, stream, info), onPeerLeft(id, reason, info), onPeerMedia(id,
   * state, info), onChat(line), onEnded(reason), onError(detail, message), onReconnecting(delayMs),
   * onClosed(code, reason) when the room is left for good.
   * `options.guestTicket`: sign in with this ticket (a redeemed invitation) instead of the access token.
   */
  constructor(room, media, handlers, options = {}) {
    this.room = room;
    this.media = media;
    this.handlers = handlers;
    this.peers = new Map(); // participant id -> {pc, polite, makingOffer, ignoreOffer, info}
    this.iceServers = [];
    this.me = null;
    this.over = false;
    this.attempt = 0;
    // Guests have no account: their ticket is their only credential, bound to this one room.
    this.guestTicket = options.guestTicket ?? null;
  }

  /** Opens the socket, authenticates (guest ticket, or a current access token) and joins the room. */
  async connect() {
    const token = this.guestTicket ?? (await freshToken());
    if (this.over) return;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${window.location.host}/ws/consult`);
    this.ws = ws;
    this.heardAt = Date.now();
    ws.addEventListener("open", () => this.send({ type: "auth", token: token ?? "" }));
    ws.addEventListener("message", (event) => {
      this.heardAt = Date.now();
      this.receive(JSON.parse(event.data));
    });
    ws.addEventListener("close", (event) => this.closed(ws, event));
    clearInterval(this.pinger);
    this.pinger = setInterval(() => this.keepAlive(ws), PING_INTERVAL_MS);
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

  /** Leaves the room for good: the others are told, every connection is closed. */
  leave() {
    this.send({ type: "leave" });
    this.close();
  }

  /** Tells the others whether this side's microphone and camera are on. */
  sendMediaState() {
    if (this.me?.status === "admitted") this.send({ type: "media", audio: !this.media.muted, video: !this.media.cameraOff });
  }

  /** Sends `track` (null: nothing, the camera is off) instead of the current one of its kind. */
  async replaceTrack(kind, track) {
    for (const { pc } of this.peers.values()) {
      const transceiver = pc.getTransceivers().find((t) => t.receiver.track.kind === kind);
      if (transceiver && pc.signalingState !== "closed") await transceiver.sender.replaceTrack(track);
    }
  }

  /** Hangs up and closes the socket; nothing is reconnected afterwards. */
  close() {
    this.over = true;
    clearInterval(this.pinger);
    clearTimeout(this.retry);
    this.hangUpAll();
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000);
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
        this.attempt = 0;
        this.me = message.participant;
        this.iceServers = message.ice_servers;
        this.handlers.onJoined?.(message.participant, message);
        break;
      case "waiting":
        this.handlers.onWaiting?.(message.waiting);
        break;
      case "admitted":
        this.me = { ...this.me, status: "admitted" };
        this.handlers.onAdmitted?.();
        this.sendMediaState();
        // The newcomer offers to everyone already in the room.
        for (const peer of message.peers) await this.offerTo(this.peerFor(peer.id, peer));
        break;
      case "peer-joined":
        this.peerFor(message.participant.id, message.participant);
        this.sendMediaState();
        break;
      case "peer-media":
        this.handlers.onPeerMedia?.(message.from, { audio: message.audio, video: message.video }, this.peers.get(message.from)?.info);
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
        this.close();
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
    // One transceiver per kind even while the camera is off, so turning it on needs no renegotiation.
    for (const kind of KINDS) {
      const track = this.media.track(kind);
      if (track) pc.addTrack(track, this.media.stream);
      else pc.addTransceiver(kind, { direction: "sendrecv", streams: [this.media.stream] });
    }
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

  keepAlive(ws) {
    if (ws !== this.ws) return;
    if (Date.now() - this.heardAt > SILENCE_LIMIT_MS) {
      // Half-open: the close event may take minutes to come, so the socket is given up now.
      this.closed(ws, { code: 1006, reason: "no answer from the server" });
      ws.close();
      return;
    }
    this.send({ type: "ping" });
  }

  closed(ws, event) {
    if (ws !== this.ws || this.over) return; // an old socket, or a room already left
    this.ws = null;
    this.me = null;
    clearInterval(this.pinger);
    // The others hang up on this connection when its socket drops; a rejoin negotiates afresh.
    this.hangUpAll();
    if (FINAL_CLOSES.has(event.code)) {
      this.over = true;
      this.handlers.onClosed?.(event.code, event.reason);
      return;
    }
    this.reconnectLater();
  }

  reconnectLater() {
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    this.handlers.onReconnecting?.(delay);
    // A failure before the socket exists (the token could not be refreshed offline) tries again too.
    this.retry = setTimeout(() => this.connect().catch(() => this.reconnectLater()), delay);
  }
}
