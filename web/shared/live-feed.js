// The live feed: one WebSocket to the hub (/ws), signed in with the access token in its first
// message (never in the URL), subscribed to a ward or a patient. A (re)connection starts from the
// server's snapshot, deltas follow; a dropped socket is reopened with exponential backoff and
// jitter; the access token is refreshed before it expires and the socket signs in again with it
// (socket-renewal.js, shared with the consult pages).

import { api } from "./api.js";
import { freshToken, keepSignedIn } from "./socket-renewal.js";

// Close codes of the hub (realtime/hub/messages.py).
const CLOSE_NOT_AUTHENTICATED = 4401;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
// Refused sign-ins in a row before the page stops retrying and says so.
const MAX_REFUSED = 2;

/** The delay before reconnect attempt `attempt` (0, 1, ...): doubling, capped, with jitter. */
export function backoffDelayMs(attempt, random = Math.random) {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  // Half fixed, half random: a ward of tablets reconnecting after a restart spreads out.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class LiveFeed {
  /**
   * `subscriptions`: [{scope, id}]; `onMessage(message)` gets snapshots, deltas, alarms, resyncs
   * and errors; `onStatus({state, detail})` gets "connecting", "live", "waiting", "refused".
   */
  constructor({ subscriptions, onMessage, onStatus }) {
    this.subscriptions = subscriptions;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.socket = null;
    this.attempt = 0;
    this.refused = 0;
    this.sessionEnded = false;
    this.stopped = false;
    this.retryTimer = null;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.socket?.close(1000, "page closed");
  }

  async connect() {
    this.onStatus({ state: "connecting" });
    let token;
    try {
      // After a refused sign-in, ask the API first: it refreshes a revoked or expired token, or
      // sends the user to sign in when the session is over.
      if (this.refused || this.sessionEnded) await api("/api/v1/auth/me");
      this.sessionEnded = false;
      token = await freshToken();
    } catch (error) {
      this.scheduleReconnect(error.message);
      return;
    }
    if (!token) return; // signed out: api() has already sent the user to sign in
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${window.location.host}/ws`);
    this.socket = socket;
    let ready = false;
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "auth", token })));
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "ready") {
        if (!ready) this.onReady(socket);
        ready = true;
        // Staff sign-ins say whether alarms are being evaluated; changes come as messages of this type.
        if (message.alarm_evaluation) this.onMessage({ type: "alarm_evaluation", ...message.alarm_evaluation });
      } else if (message.type === "ping") {
        socket.send(JSON.stringify({ type: "pong", seq: message.seq }));
      } else if (!(message.type === "error" && message.code === "already-authenticated")) {
        // (A hub without re-authentication answers a renewed token so; it is harmless.)
        this.onMessage(message);
      }
    });
    socket.addEventListener("close", (event) => this.onClose(socket, event, ready));
  }

  onReady(socket) {
    this.attempt = 0;
    this.refused = 0;
    this.onStatus({ state: "live" });
    for (const { scope, id } of this.subscriptions) {
      socket.send(JSON.stringify({ type: "subscribe", scope, id }));
    }
    // Renewals stop by themselves when the socket closes.
    keepSignedIn(socket);
  }

  onClose(socket, event, wasReady) {
    if (this.socket !== socket) return;
    this.socket = null;
    if (this.stopped) return;
    // Closed after its sign-in: the session was ended (signed out elsewhere, a password or role
    // changed). The next connection asks the API first, which refreshes into a token of the
    // account as it is now, or sends the user to sign in.
    if (event.code === CLOSE_NOT_AUTHENTICATED && wasReady) this.sessionEnded = true;
    if (event.code === CLOSE_NOT_AUTHENTICATED && !wasReady) {
      this.refused += 1;
      if (this.refused >= MAX_REFUSED) {
        this.onStatus({ state: "refused", detail: event.reason || "The live feed refused your sign-in." });
        return;
      }
    }
    this.scheduleReconnect(event.reason);
  }

  scheduleReconnect(reason) {
    const delay = backoffDelayMs(this.attempt);
    this.attempt += 1;
    this.onStatus({ state: "waiting", detail: reason, retryInMs: delay });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
