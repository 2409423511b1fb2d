// Keeps a WebSocket signed in past its access token's expiry, for the hub (/ws) and consult
// signalling (/ws/consult) alike: both close a socket whose token expires (4440) unless a fresh
// `auth` of the same user arrives first, which they answer with `ready` and `renewed: true`.

import { api } from "./api.js";
import { getSession } from "./session.js";

/** A current access token, refreshed first if it is about to expire (api() refreshes it). */
export async function freshToken() {
  const session = getSession();
  if (!session || Date.now() >= session.expiresAt) await api("/api/v1/auth/me");
  return getSession()?.accessToken ?? null;
}

/** Sends `socket` a fresh token before each expiry, until it closes. */
export function keepSignedIn(socket) {
  let timer = null;
  const schedule = () => {
    const session = getSession();
    if (!session) return;
    // expiresAt is already a little before the real expiry (session.js): sign in again then.
    const delay = Math.max(1000, session.expiresAt - Date.now());
    timer = setTimeout(async () => {
      if (socket.readyState !== WebSocket.OPEN) return;
      try {
        const token = await freshToken();
        if (token) socket.send(JSON.stringify({ type: "auth", token }));
      } catch {
        // The refresh failed (network): tried again shortly; at the expiry the server closes the socket.
      }
      schedule();
    }, delay);
  };
  socket.addEventListener("close", () => clearTimeout(timer));
  schedule();
}
