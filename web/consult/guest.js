// The guest's consult page, opened from an invitation link (/consult/guest#invite=<token>). Guests
// have no account: the token is spent once for a ticket to one room, and that ticket signs them in
// on the signalling socket. Then the camera, the waiting room, the video, the chat and leaving.

import { showError } from "../shared/alerts.js";
import { ApiError } from "../shared/api.js";
import { byId, h, replace } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";
import { bindChatForm, showChatLine } from "./chat.js";
import { openCamera, receivedStats, showReceiving } from "./media.js";
import { ConsultRoom } from "./room.js";

// The link works once, so the ticket is kept for this tab: a reload rejoins instead of failing.
const TICKET_KEY = "ownat.consult-guest";
const REFUSED_LINK = "This invitation link cannot be used";
const CLOSED_BECAUSE = {
  4401: "Your invitation is no longer valid.",
  4409: "You joined from another window or tab; this one was disconnected.",
};

const state = { guest: null, stream: null, room: null, stopReceiving: null, over: false };
const messages = () => byId("messages");
const guard = (work) => work().catch((error) => showError(messages(), error));

window.ownatConsult = { stats: () => receivedStats(state.room?.connections() ?? []) };

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
  state.stream = await openCamera();
  byId("preview").srcObject = state.stream;
  byId("open-camera").hidden = true;
  byId("join").disabled = false;
}

function releaseCamera() {
  for (const track of state.stream?.getTracks() ?? []) track.stop();
  state.stream = null;
  byId("self").srcObject = null;
}

async function join() {
  state.stream ??= await openCamera();
  state.over = false;
  byId("device-check").hidden = true;
  byId("call").hidden = false;
  byId("leave").hidden = false;
  byId("join-again").hidden = true;
  byId("self").srcObject = state.stream;
  const status = byId("call-status");
  status.textContent = "Connecting…";
  const room = new ConsultRoom(
    state.guest.room,
    state.stream,
    {
      onJoined: () => (status.textContent = "You are in the waiting room. The clinician will let you in shortly."),
      onAdmitted: () => {
        status.textContent = "You are in the consultation.";
        setChat(true);
      },
      onRemoteStream: showRemote,
      onPeerLeft: (id) => remoteFigure(id)?.remove(),
      onChat: (line) => showChatLine(byId("chat"), line, room.me?.id),
      onEnded: (reason) =>
        stopCall(reason === "removed" ? "You were removed from the consultation." : "The consultation has ended.", false),
      onError: (detail, message) => {
        // A refused join (the room is not open yet, the invitation was withdrawn) leaves nothing to wait for.
        if (message?.ref === "join") stopCall(`You could not join: ${detail}`, true);
        else showError(messages(), new Error(detail));
      },
      onClosed: (code) => {
        // A socket left behind by "Leave" may report its close after "Join again" opened a new one.
        if (state.room === room && !state.over) stopCall(CLOSED_BECAUSE[code] ?? "The connection was lost.", code !== 4401);
      },
    },
    { guestTicket: state.guest.ticket },
  );
  state.room = room;
  state.stopReceiving = showReceiving(byId("receiving"), () => room.connections());
  room.connect();
}

/** Ends this page's part in the call; `canRejoin` offers "Join again" with the same ticket. */
function stopCall(text, canRejoin) {
  state.over = true;
  state.stopReceiving?.();
  byId("call-status").textContent = text;
  setChat(false);
  for (const figure of byId("videos").querySelectorAll("[data-participant-id]")) figure.remove();
  byId("leave").hidden = true;
  byId("join-again").hidden = !canRejoin;
  // The camera's light goes off as soon as the person is no longer seen by anyone.
  releaseCamera();
  if (!canRejoin) sessionStorage.removeItem(TICKET_KEY);
}

function leave() {
  state.over = true;
  state.room?.leave();
  stopCall("You left the consultation.", true);
}

function setChat(enabled) {
  for (const control of byId("chat-form").elements) control.disabled = !enabled;
}

function remoteFigure(id) {
  return byId("videos").querySelector(`[data-participant-id="${CSS.escape(id)}"]`);
}

function showRemote(id, stream, info) {
  // Called once per track (audio, video) of the same stream: one figure per participant.
  let figure = remoteFigure(id);
  if (!figure) {
    figure = h(
      "figure",
      { dataset: { participantId: id } },
      h("video", { autoplay: true, playsinline: true }),
      h("figcaption", {}, info?.display_name ?? "Participant"),
    );
    byId("videos").prepend(figure);
  }
  figure.querySelector("video").srcObject = stream;
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
  byId("leave").addEventListener("click", leave);
  bindChatForm(byId("chat-form"), (text) => state.room?.chat(text));
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
  showInvitation(state.guest);
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(messages(), error));
