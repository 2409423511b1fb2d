// The guest's consult page, opened from an invitation link (/consult/guest#invite=<token>). Guests
// have no account: the token is spent once for a ticket to one room, and that ticket signs them in
// on the signalling socket. Then the camera, the waiting room, the video, the chat and leaving.

import { showError } from "../shared/alerts.js";
import { ApiError } from "../shared/api.js";
import { byId, h, replace } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";
import { CallView } from "./call.js";
import { bindChatForm } from "./chat.js";
import { receivedStats } from "./media.js";

// The link works once, so the ticket is kept for this tab: a reload rejoins instead of failing.
const TICKET_KEY = "ownat.consult-guest";
const REFUSED_LINK = "This invitation link cannot be used";

const state = { rejoined: false, guest: null, call: null };
const messages = () => byId("messages");
const guard = (work) => work().catch((error) => showError(messages(), error));

window.ownatConsult = { stats: () => receivedStats(state.call?.room?.connections() ?? []) };

/** The token of the link, taken out of the address bar (and so out of the history) at once. */
function takeInviteToken() {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("invite");
  if (window.location.hash) history.replaceState(null, "", window.location.pathname + window.location.search);
  return token;
}

async function redeem(token) {
  // A plain fetch, not shared/api.js: that would send this tab's own sign-in, if any, and sign it
  // out on the 401 that here only means a spent link.
  const response = await fetch("/api/v1/consults/invitations/redeem", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json, application/problem+json" },
    body: JSON.stringify({ token }),
  });
  let body = {};
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's error page): the status is all there is to say.
  }
  if (response.ok) return body;
  const error = new ApiError(response.status, body);
  if (response.status === 401) {
    error.title = REFUSED_LINK;
    error.message = `${error.message} Ask the person who invited you for a new link.`;
  }
  if (response.status === 422) {
    error.title = REFUSED_LINK;
    error.message = "The link is incomplete. Copy the whole link from your invitation.";
    error.problem = {};
  }
  throw error;
}

function storedTicket() {
  try {
    const guest = JSON.parse(sessionStorage.getItem(TICKET_KEY));
    return guest && Date.parse(guest.expires_at) > Date.now() ? guest : null;
  } catch {
    return null;
  }
}

function showInvitation(guest) {
  replace(byId("invited-as"), "You are invited to this video consultation as ", h("strong", {}, guest.display_name), ".");
  byId("room-hours").textContent = `You may join until ${formatDateTime(guest.expires_at)}. The clinician lets you in from the waiting room.`;
  byId("invitation").hidden = false;
  byId("device-check").hidden = false;
}

async function turnOnCamera() {
  byId("preview").srcObject = await state.call.media.open();
  byId("open-camera").hidden = true;
  byId("join").disabled = false;
}

const hooks = {
  // Admitted on joining: back after a dropped connection (the "admitted" event follows).
  onJoined: (me) => {
    state.rejoined = me.status === "admitted";
    if (!state.rejoined) state.call.status("You are in the waiting room. The clinician will let you in shortly.");
  },
  onAdmitted: () =>
    state.call.status(state.rejoined ? "You are back in the consultation." : "You are in the consultation."),
  onError: (detail, message) => {
    if (message?.code === "room-not-open" && message.retry_at) {
      state.call.room?.close();
      const opensAt = message.retry_at;
      state.call.waitFor(opensAt, () => Date.parse(opensAt) - Date.now(), (left) => `The room opens in ${left}.`, () => guard(join));
      return true;
    }
    // A refused join (the invitation was withdrawn, the consultation is over) leaves nothing to wait for.
    if (message?.ref !== "join") return false;
    state.call.finish(`You could not join: ${detail}`, { canRejoin: true });
    return true;
  },
  onFinished: () => {
    // Removed, or the consultation is over (nothing to join again): the ticket is of no more use.
    if (byId("join-again").hidden) sessionStorage.removeItem(TICKET_KEY);
  },
};

async function join() {
  byId("device-check").hidden = true;
  state.call.open("Consultation");
  await state.call.connect(state.guest.room);
}

async function main() {
  const token = takeInviteToken();
  // A link pasted into this page's address bar only changes the fragment: start over with it.
  window.addEventListener("hashchange", () => {
    if (new URLSearchParams(window.location.hash.slice(1)).has("invite")) window.location.reload();
  });
  byId("open-camera").addEventListener("click", () => guard(turnOnCamera));
  byId("join").addEventListener("click", () => guard(join));
  byId("join-again").addEventListener("click", () => guard(join));
  byId("leave").addEventListener("click", () => guard(() => state.call.leave(byId("leave-dialog"))));
  byId("stop-waiting").addEventListener("click", () => state.call.stopWaiting());
  bindChatForm(byId("chat-form"), (text) => state.call.room?.chat(text));
  try {
    // A link in the address bar wins over a ticket this tab already holds: it may be for another room.
    state.guest = token ? await redeem(token) : storedTicket();
  } finally {
    byId("opening").hidden = true;
  }
  if (!state.guest) {
    const error = new Error("Open this page from the invitation link you were sent. Each link works once.");
    error.title = "No invitation";
    showError(messages(), error);
    return;
  }
  sessionStorage.setItem(TICKET_KEY, JSON.stringify(state.guest));
  state.call = new CallView({ hooks, roomOptions: { guestTicket: state.guest.ticket } });
  showInvitation(state.guest);
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(messages(), error));
