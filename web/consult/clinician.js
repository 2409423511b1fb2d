// The clinician's consult page: the day's video appointments (the room offered only while it is
// open, the list kept current by itself), the waiting room with admission, the call and chat,
// recording with consent, ending with a confirmation, and the encounter's notes beside the video.

import { emptyState, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { requireUser } from "../shared/auth.js";
import { byId, h, replace } from "../shared/dom.js";
import { renderLayout } from "../shared/layout.js";
import { dateInputValue, formatDateTime, formatTime, localDayBoundary } from "../shared/time.js";
import { CallView } from "./call.js";
import { bindChatForm } from "./chat.js";
import { confirmWith } from "./controls.js";
import { receivedStats } from "./media.js";
import { bindConsent } from "./recording.js";
import { VisitList } from "./visits.js";

const state = { list: null, call: null, visit: null, encounterId: null, consent: null };
const messages = () => byId("messages");
const guard = (work) => work().catch((error) => showError(messages(), error));

window.ownatConsult = { stats: () => receivedStats(state.call?.room?.connections() ?? []) };

function describe(visit) {
  return { title: `${formatTime(visit.start_at)} · ${visit.patient_name}`, details: visit.reason ?? "Video appointment" };
}

function openButton(visit) {
  if (visit.state !== "open") return null;
  const here = state.call?.room && state.visit?.appointment_id === visit.appointment_id;
  return h(
    "button",
    { type: "button", disabled: here, onclick: () => guard(() => openRoom(visit.appointment_id)) },
    here ? "In this room" : "Open room",
  );
}

async function openRoom(appointmentId) {
  const visit = state.list.find(appointmentId);
  if (state.call.room) state.call.room.leave();
  resetEncounter();
  state.visit = visit;
  state.call.open(`${visit.patient_name}, ${formatTime(visit.start_at)}`);
  replace(byId("waiting"), emptyState("Nobody is waiting."));
  await state.call.connect(appointmentId);
  state.list.render();
}

const hooks = {
  onJoined: () => state.call.status("You are in the room. Admit the patient when they arrive."),
  onWaiting: (waiting) => showWaiting(waiting),
  onRemoteStream: () => {
    state.call.status("In consultation.");
    guard(prepareEncounter);
  },
  onPeerLeft: (_, reason, info) => {
    if (info?.role === "patient") state.call.status(`The patient ${reason === "removed" ? "was removed" : "left the room"}.`);
  },
  onFinished: () => {
    state.consent?.dispose();
    state.consent = null;
    replace(byId("waiting"));
    state.list.load().catch((error) => showError(messages(), error));
  },
};

function showWaiting(waiting) {
  replace(
    byId("waiting"),
    waiting.length
      ? waiting.map((person) =>
          h(
            "li",
            { dataset: { participantId: person.id } },
            h("span", {}, `${person.display_name} (${person.role})`),
            h("button", { type: "button", onclick: () => state.call.room?.admit(person.id) }, `Admit ${person.display_name}`),
          ),
        )
      : emptyState("Nobody is waiting."),
  );
}

function resetEncounter() {
  state.consent?.dispose();
  state.consent = null;
  state.encounterId = null;
  byId("note-form").hidden = true;
  byId("consent").disabled = true;
  byId("consent").checked = false;
  byId("recording-state").textContent = "";
  byId("notes-hint").textContent = "The encounter opens when you admit the patient.";
  replace(byId("notes"));
}

async function prepareEncounter() {
  if (state.encounterId) return;
  const consult = await api(`/api/v1/consults/${state.visit.appointment_id}`);
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
  state.consent = consent;
  byId("start-recording").onclick = () =>
    guard(async () => {
      // The recorder waits like any guest; starting it is the clinician's decision to let it in.
      state.call.room?.admit(await consent.start());
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

async function endConsultation() {
  if (await confirmWith(byId("end-dialog"))) state.call.room?.end();
}

async function main() {
  const user = await requireUser(["clinician"]);
  if (!user) return;
  renderLayout(user);
  state.call = new CallView({ hooks });
  state.list = new VisitList(byId("appointments"), {
    range: () => ({ start_from: localDayBoundary(byId("day").value), start_to: localDayBoundary(byId("day").value, true) }),
    describe,
    actionFor: openButton,
  });
  byId("day").value = dateInputValue(0);
  byId("day").addEventListener("change", () => guard(() => state.list.load()));
  byId("leave").addEventListener("click", () => guard(endConsultation));
  byId("join-again").addEventListener("click", () => guard(() => openRoom(state.visit.appointment_id)));
  byId("stop-waiting").addEventListener("click", () => state.call.stopWaiting());
  bindChatForm(byId("chat-form"), (text) => state.call.room?.chat(text));
  bindNoteForm();
  await guard(() => state.list.load());
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(messages(), error));
