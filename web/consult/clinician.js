// The clinician's consult page: the day's video appointments, the waiting room with admission, the
// video and chat, recording with consent, and the encounter's notes beside the video.

import { emptyState, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { requireUser } from "../shared/auth.js";
import { byId, h, replace } from "../shared/dom.js";
import { renderLayout } from "../shared/layout.js";
import { dateInputValue, formatDateTime, localDayBoundary } from "../shared/time.js";
import { bindChatForm, showChatLine } from "./chat.js";
import { openCamera, receivedStats, showReceiving } from "./media.js";
import { bindConsent } from "./recording.js";
import { ConsultRoom } from "./room.js";

const state = { practitioner: null, stream: null, room: null, appointmentId: null, encounterId: null };
const messages = () => byId("messages");
const guard = (work) => work().catch((error) => showError(messages(), error));

window.ownatConsult = { stats: () => receivedStats(state.room?.connections() ?? []) };

async function findPractitioner(user) {
  for (let offset = 0; ; offset += 100) {
    const page = await api(`/api/v1/practitioners?limit=100&offset=${offset}`);
    const mine = page.find((p) => p.user_id === user.id);
    if (mine || page.length < 100) return mine ?? null;
  }
}

async function showDay() {
  const day = byId("day").value;
  const query = new URLSearchParams({
    practitioner_id: state.practitioner.id,
    start_from: localDayBoundary(day),
    start_to: localDayBoundary(day, true),
    limit: "100",
  });
  const page = await api(`/api/v1/appointments?${query}`);
  const visits = page.items.filter((a) => a.mode === "video" && a.status !== "cancelled");
  replace(
    byId("appointments"),
    visits.length
      ? visits.map((visit) =>
          h(
            "li",
            { dataset: { appointmentId: visit.id } },
            h("div", {}, h("strong", {}, formatDateTime(visit.start_at)), h("div", { class: "meta" }, `${visit.reason ?? "Video appointment"} · ${visit.status}`)),
            h("button", { type: "button", onclick: () => guard(() => openRoom(visit.id)) }, "Open room"),
          ),
        )
      : emptyState("No video appointments on this day."),
  );
}

async function openRoom(appointmentId) {
  if (state.room) state.room.leave();
  state.stream ??= await openCamera();
  state.appointmentId = appointmentId;
  byId("self").srcObject = state.stream;
  byId("call").hidden = false;
  const status = byId("call-status");
  const room = new ConsultRoom(appointmentId, state.stream, {
    onJoined: () => (status.textContent = "In the room. Admit the patient when you are ready."),
    onWaiting: (waiting) => showWaiting(waiting),
    onRemoteStream: (_, stream, info) => {
      byId("remote").srcObject = stream;
      if (info?.display_name) byId("remote-name").textContent = info.display_name;
      status.textContent = "In consultation.";
      guard(prepareEncounter);
    },
    onPeerLeft: (_, reason, info) => {
      if (info?.role === "patient") status.textContent = `The patient ${reason === "removed" ? "was removed" : "left"}.`;
    },
    onChat: (line) => showChatLine(byId("chat"), line, room.me?.id),
    onEnded: () => (status.textContent = "The consultation has ended."),
    onError: (detail) => showError(messages(), new Error(detail)),
    onClosed: () => {},
  });
  state.room = room;
  showReceiving(byId("receiving"), () => room.connections());
  await room.connect();
}

function showWaiting(waiting) {
  replace(
    byId("waiting"),
    waiting.length
      ? waiting.map((person) =>
          h(
            "li",
            { dataset: { participantId: person.id } },
            h("span", {}, `${person.display_name} (${person.role})`),
            h("button", { type: "button", onclick: () => state.room.admit(person.id) }, `Admit ${person.display_name}`),
          ),
        )
      : emptyState("Nobody is waiting."),
  );
}

async function prepareEncounter() {
  if (state.encounterId) return;
  const consult = await api(`/api/v1/consults/${state.appointmentId}`);
  if (!consult.encounter_id) return;
  state.encounterId = consult.encounter_id;
  byId("notes-hint").textContent = "Notes are saved to this encounter as drafts; sign them from the record.";
  byId("note-form").hidden = false;
  await showNotes();
  const checkbox = byId("consent");
  const consent = bindConsent(checkbox, state.encounterId, (recording) => {
    const both = recording.patient_consent && recording.clinician_consent;
    byId("recording-state").textContent = recording.recording
      ? "● Recording"
      : `Consent: patient ${recording.patient_consent ? "yes" : "no"}, you ${recording.clinician_consent ? "yes" : "no"}`;
    byId("start-recording").hidden = recording.recording || !both;
    byId("stop-recording").hidden = !recording.recording;
  });
  byId("start-recording").onclick = () =>
    guard(async () => {
      // The recorder waits like any guest; starting it is the clinician's decision to let it in.
      state.room.admit(await consent.start());
      byId("start-recording").hidden = true;
      byId("stop-recording").hidden = false;
    });
  byId("stop-recording").onclick = () =>
    guard(async () => {
      const document = await consent.stop();
      showNotice(messages(), document ? `The recording was saved to the record as “${document.title}”.` : "Nothing was recorded.");
      byId("stop-recording").hidden = true;
    });
  checkbox.disabled = false;
  await consent.refresh();
}

async function showNotes() {
  const notes = await api(`/api/v1/encounters/${state.encounterId}/notes`);
  replace(
    byId("notes"),
    notes.length
      ? notes.map((note) =>
          h("li", { dataset: { noteId: note.id } }, h("div", { class: "meta" }, `${formatDateTime(note.created_at)}${note.signed_at ? " · signed" : " · draft"}`), h("p", {}, note.text)),
        )
      : emptyState("No notes yet."),
  );
}

function bindNoteForm() {
  const form = byId("note-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guard(async () => {
      await api(`/api/v1/encounters/${state.encounterId}/notes`, { method: "POST", json: { text: form.elements.text.value } });
      form.reset();
      await showNotes();
    });
  });
}

async function main() {
  const user = await requireUser(["clinician"]);
  if (!user) return;
  renderLayout(user);
  state.practitioner = await findPractitioner(user);
  if (!state.practitioner) {
    showError(messages(), new Error("Your account is not linked to a practitioner record; ask an administrator to link it."));
    return;
  }
  byId("day").value = dateInputValue(0);
  byId("day").addEventListener("change", () => guard(showDay));
  byId("end").addEventListener("click", () => state.room?.end());
  bindChatForm(byId("chat-form"), (text) => state.room?.chat(text));
  bindNoteForm();
  await guard(showDay);
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(messages(), error));
