// The patient's consult page: the device check (preview and the server's echo test), the video
// appointments to join, the waiting room, the consultation's video and chat, consent to recording.

import { emptyState, showError } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { requireUser } from "../shared/auth.js";
import { byId, h, replace } from "../shared/dom.js";
import { renderLayout } from "../shared/layout.js";
import { formatDateTime } from "../shared/time.js";
import { bindChatForm, showChatLine } from "./chat.js";
import { openCamera, receivedStats, showReceiving, startEchoCheck } from "./media.js";
import { bindConsent } from "./recording.js";
import { ConsultRoom } from "./room.js";

const state = { stream: null, stopEcho: null, echoPc: null, room: null };
const messages = () => byId("messages");
const guard = (work) => work().catch((error) => showError(messages(), error));

// Read by the page's own status lines and by automated checks of a deployment.
window.ownatConsult = {
  stats: () => receivedStats([...(state.room?.connections() ?? []), ...(state.echoPc ? [state.echoPc] : [])]),
};

async function turnOnCamera() {
  state.stream = await openCamera();
  byId("preview").srcObject = state.stream;
  byId("self").srcObject = state.stream;
  byId("echo-start").disabled = false;
  for (const button of document.querySelectorAll("[data-join]")) button.disabled = false;
  byId("open-camera").hidden = true;
}

async function startEcho() {
  byId("echo-start").hidden = true;
  byId("echo-stop").hidden = false;
  const status = byId("echo-status");
  status.textContent = "Connecting to the test service…";
  let stopShowing = () => {};
  const stop = await startEchoCheck(state.stream, (echoed, pc) => {
    state.echoPc = pc;
    byId("echo").srcObject = echoed;
    stopShowing();
    stopShowing = showReceiving(status, () => [pc]);
  });
  state.stopEcho = async () => {
    stopShowing();
    await stop();
    state.echoPc = null;
    byId("echo").srcObject = null;
    status.textContent = "Test ended.";
    byId("echo-start").hidden = false;
    byId("echo-stop").hidden = true;
  };
}

async function showVisits(user) {
  const since = new Date(Date.now() - 2 * 3600_000).toISOString();
  const page = await api(`/api/v1/appointments?patient_id=${user.patient_id}&start_from=${encodeURIComponent(since)}`);
  const visits = page.items.filter((a) => a.mode === "video" && !["cancelled", "no_show", "completed"].includes(a.status));
  replace(
    byId("visits"),
    visits.length
      ? visits.map((visit) =>
          h(
            "li",
            { dataset: { appointmentId: visit.id } },
            h("div", {}, h("strong", {}, formatDateTime(visit.start_at)), h("div", { class: "meta" }, visit.reason ?? "Video appointment")),
            h("button", { type: "button", "data-join": "", disabled: !state.stream, onclick: () => guard(() => join(visit.id)) }, "Join"),
          ),
        )
      : emptyState("You have no video appointment in the coming days."),
  );
}

async function join(appointmentId) {
  if (state.stopEcho) await state.stopEcho();
  byId("call").hidden = false;
  const status = byId("call-status");
  const chat = byId("chat");
  const room = new ConsultRoom(appointmentId, state.stream, {
    onJoined: (me) =>
      (status.textContent =
        me.status === "waiting" ? "You are in the waiting room. Your clinician will let you in shortly." : "Joined."),
    onAdmitted: () => {
      status.textContent = "You are in the consultation.";
      for (const control of byId("chat-form").elements) control.disabled = false;
      guard(() => prepareConsent(appointmentId));
    },
    onRemoteStream: (_, stream, info) => {
      byId("remote").srcObject = stream;
      if (info?.display_name) byId("remote-name").textContent = info.display_name;
    },
    onPeerLeft: (_, reason, info) => {
      if (info?.role === "clinician") status.textContent = "Your clinician left; they may join again.";
    },
    onChat: (line) => showChatLine(chat, line, room.me?.id),
    onEnded: (reason) => (status.textContent = reason === "removed" ? "You were removed from the consultation." : "The consultation has ended."),
    onError: (detail) => showError(messages(), new Error(detail)),
    onClosed: () => {},
  });
  state.room = room;
  showReceiving(byId("receiving"), () => room.connections());
  await room.connect();
}

async function prepareConsent(appointmentId) {
  const consult = await api(`/api/v1/consults/${appointmentId}`);
  if (!consult.encounter_id) return;
  const checkbox = byId("consent");
  const consent = bindConsent(checkbox, consult.encounter_id, (recording) => {
    byId("recording-state").textContent = recording.recording ? "● Recording" : "";
  });
  checkbox.disabled = false;
  await consent.refresh();
}

async function main() {
  const user = await requireUser(["patient"]);
  if (!user) return;
  renderLayout(user);
  byId("open-camera").addEventListener("click", () => guard(turnOnCamera));
  byId("open-camera").disabled = false;
  byId("echo-start").addEventListener("click", () => guard(startEcho));
  byId("echo-stop").addEventListener("click", () => guard(() => state.stopEcho()));
  byId("leave").addEventListener("click", () => {
    state.room?.leave();
    byId("call-status").textContent = "You left the consultation.";
  });
  bindChatForm(byId("chat-form"), (text) => state.room?.chat(text));
  await guard(() => showVisits(user));
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(messages(), error));
