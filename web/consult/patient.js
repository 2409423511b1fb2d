// The patient's consult page: their video appointments ("Join" when it makes sense, a countdown
// before the room opens and the room opened by itself), the device check (preview and the server's
// echo test), and the call with consent to recording.

import { showError } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { requireUser } from "../shared/auth.js";
import { bindChatForm } from "./chat.js";
import { byId, h } from "../shared/dom.js";
import { renderLayout } from "../shared/layout.js";
import { localDayBoundary, dateInputValue, momentInWords } from "../shared/time.js";
import { CallView } from "./call.js";
import { receivedStats, showReceiving, startEchoCheck } from "./media.js";
import { bindConsent } from "./recording.js";
import { JOIN_EARLY_MS, VisitList } from "./visits.js";

const state = { rejoined: false, list: null, call: null, visit: null, echo: null, consent: null };
const messages = () => byId("messages");
const guard = (work) => work().catch((error) => showError(messages(), error));
const capitalised = (text) => text[0].toUpperCase() + text.slice(1);

// Read by the page's own status lines and by automated checks of a deployment.
window.ownatConsult = {
  stats: () => receivedStats([...(state.call?.room?.connections() ?? []), ...(state.echo?.pc ? [state.echo.pc] : [])]),
};

function describe(visit) {
  return {
    title: `${capitalised(momentInWords(visit.start_at))} with ${visit.practitioner_name}`,
    details: visit.reason ?? "Video appointment",
  };
}

function joinButton(visit, list) {
  const soon = visit.state === "upcoming" && list.until(visit.opens_at) <= JOIN_EARLY_MS;
  if (visit.state !== "open" && !soon) return null;
  const here = (state.call.room || state.call.waiting) && state.visit?.appointment_id === visit.appointment_id;
  return h(
    "button",
    { type: "button", disabled: Boolean(here), onclick: () => guard(() => join(visit.appointment_id)) },
    here ? "In this call" : "Join",
  );
}

async function join(appointmentId) {
  const visit = state.list.find(appointmentId);
  await stopEcho();
  state.visit = visit;
  state.call.open(`Video appointment with ${visit.practitioner_name}, ${momentInWords(visit.start_at)}`);
  if (state.list.until(visit.opens_at) > 0) waitForRoom(visit, visit.opens_at);
  else await state.call.connect(visit.appointment_id);
  state.list.render();
}

function waitForRoom(visit, opensAt) {
  state.call.waitFor(
    opensAt,
    () => state.list.until(opensAt),
    (left) => `Your appointment starts ${momentInWords(visit.start_at)}; the room opens in ${left}.`,
    () => guard(() => state.call.connect(visit.appointment_id)),
  );
}

const hooks = {
  // Admitted on joining: back after a dropped connection (the "admitted" event follows).
  onJoined: (me) => {
    state.rejoined = me.status === "admitted";
    if (!state.rejoined) state.call.status(`You are in the waiting room. ${state.visit.practitioner_name} will let you in shortly.`);
  },
  onAdmitted: () => {
    state.call.status(state.rejoined ? "You are back in the consultation." : "You are in the consultation.");
    guard(() => prepareConsent(state.visit.appointment_id));
  },
  onPeerLeft: (_, reason, info) => {
    if (info?.role === "clinician") state.call.status("Your clinician left the room; they may come back.");
  },
  onError: (detail, message) => {
    if (message?.code === "room-not-open") {
      // Our clock ran ahead of the server's: wait for the time it gives.
      state.call.room?.close();
      waitForRoom(state.visit, message.retry_at ?? state.visit.opens_at);
      return true;
    }
    if (message?.ref !== "join") return false;
    state.call.finish(`You could not join: ${detail}`);
    return true;
  },
  onFinished: () => {
    state.consent?.dispose();
    state.consent = null;
    byId("consent").disabled = true;
    byId("recording-state").textContent = "";
    state.list.load().catch((error) => showError(messages(), error));
  },
};

async function prepareConsent(appointmentId) {
  const consult = await api(`/api/v1/consults/${appointmentId}`);
  if (!consult.encounter_id || state.consent) return;
  const checkbox = byId("consent");
  state.consent = bindConsent(checkbox, consult.encounter_id, (recording) => {
    byId("recording-state").textContent = recording.recording ? "● Recording" : "";
  });
  checkbox.disabled = false;
  await state.consent.refresh();
}

async function turnOnCamera() {
  const stream = await state.call.media.open();
  byId("preview").srcObject = stream;
  byId("echo-start").disabled = false;
  byId("open-camera").hidden = true;
}

async function startEcho() {
  await turnOnCamera();
  byId("echo-start").hidden = true;
  byId("echo-stop").hidden = false;
  const status = byId("echo-status");
  status.textContent = "Connecting to the test service…";
  const check = { pc: null, end: null, stopShowing: () => {} };
  state.echo = check;
  check.end = await startEchoCheck(state.call.media.stream, (echoed, pc) => {
    check.pc = pc;
    byId("echo").srcObject = echoed;
    check.stopShowing();
    check.stopShowing = showReceiving(status, () => [pc]);
  });
}

async function stopEcho() {
  const check = state.echo;
  if (!check) return;
  state.echo = null;
  check.stopShowing();
  await check.end?.();
  byId("echo").srcObject = null;
  byId("echo-status").textContent = "Test ended.";
  byId("echo-start").hidden = false;
  byId("echo-stop").hidden = true;
}

async function main() {
  const user = await requireUser(["patient"]);
  if (!user) return;
  renderLayout(user);
  state.call = new CallView({ hooks });
  state.list = new VisitList(byId("visits"), {
    // Today's visits (finished ones too, so an ended call shows as finished) and the coming fortnight.
    range: () => ({ start_from: localDayBoundary(dateInputValue(0)), start_to: localDayBoundary(dateInputValue(14), true) }),
    describe,
    actionFor: joinButton,
  });
  byId("open-camera").addEventListener("click", () => guard(turnOnCamera));
  byId("open-camera").disabled = false;
  byId("echo-start").addEventListener("click", () => guard(startEcho));
  byId("echo-stop").addEventListener("click", () => guard(stopEcho));
  byId("leave").addEventListener("click", () => guard(() => state.call.leave(byId("leave-dialog"))));
  byId("join-again").addEventListener("click", () => guard(() => join(state.visit.appointment_id)));
  byId("stop-waiting").addEventListener("click", () => {
    state.call.stopWaiting();
    byId("call").hidden = true;
    state.list.render();
  });
  bindChatForm(byId("chat-form"), (text) => state.call.room?.chat(text));
  await guard(() => state.list.load());
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(messages(), error));
