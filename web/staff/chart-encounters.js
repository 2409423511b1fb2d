// The patient's encounters, newest first, each with its notes, diagnoses and prescriptions; an
// encounter in progress opens by itself and can be finished (after a confirmation).

import { clearMessages, emptyState, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { confirmAction } from "../shared/confirm.js";
import { h, replace } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";
import { word } from "../shared/words.js";
import { renderNotes } from "./encounter-notes.js";
import { renderOrders } from "./encounter-orders.js";

function minutes(seconds) {
  return seconds === null || seconds === undefined ? null : `${Math.max(1, Math.round(seconds / 60))} min`;
}

function summary(encounter, chart) {
  const who = chart.practitioners.get(encounter.practitioner_id)?.name ?? "Unknown practitioner";
  return h(
    "summary",
    {},
    h("strong", {}, formatDateTime(encounter.started_at ?? encounter.created_at)),
    h("span", {}, word("encounterClass", encounter.encounter_class)),
    h("span", { class: "meta" }, who),
    h("span", { class: `status status-${encounter.status}` }, word("encounter", encounter.status)),
    encounter.duration_s !== null ? h("span", { class: "meta" }, minutes(encounter.duration_s)) : null,
    encounter.reason ? h("span", { class: "meta" }, encounter.reason) : null,
  );
}

async function finish(encounter, chart, redraw) {
  const answer = await confirmAction({
    title: "Finish this encounter?",
    message: "Its appointment is completed and its duration is kept for billing. Notes can still be written and signed afterwards; prescriptions cannot.",
    confirmLabel: "Finish encounter",
  });
  if (!answer) return;
  clearMessages(chart.messages);
  try {
    await api(`/api/v1/encounters/${encounter.id}/finish`, { method: "POST" });
    await redraw();
    showNotice(chart.messages, "Encounter finished.");
  } catch (error) {
    showError(chart.messages, error);
  }
}

function encounterItem(encounter, chart, open, redraw) {
  const messages = h("div", { "aria-live": "polite" });
  const notes = h("section", { "aria-label": "Notes" });
  const orders = h("section", { "aria-label": "Diagnoses and prescriptions" });
  const item = h(
    "details",
    { class: "encounter", open, dataset: { encounterId: encounter.id, status: encounter.status } },
    summary(encounter, chart),
    h("div", { class: "encounter-messages" }, messages),
    h("div", { class: "encounter-body" }, notes, orders),
    chart.isClinician && encounter.status === "in_progress"
      ? h("div", { class: "encounter-footer actions" }, h("button", { type: "button", class: "button-quiet", onclick: () => finish(encounter, chart, redraw) }, "Finish encounter…"))
      : null,
  );
  let loaded = false;
  const load = () => {
    if (loaded || !item.open) return;
    loaded = true;
    Promise.all([renderNotes(notes, encounter, chart, messages), renderOrders(orders, encounter, chart, messages)]).catch((error) => showError(messages, error));
  };
  item.addEventListener("toggle", load);
  if (open) load();
  return item;
}

export async function render(panel, chart) {
  const redraw = () => render(panel, chart);
  const page = await api(`/api/v1/encounters?patient_id=${chart.patient.id}&limit=50`);
  const items = page.items;
  const current = items.filter((e) => e.status === "in_progress");
  replace(
    panel,
    h(
      "section",
      { class: "card", "aria-labelledby": "encounters-title" },
      h("h2", { id: "encounters-title" }, "Encounters"),
      h("p", { class: "footer-note" }, current.length ? `${current.length} in progress.` : "None in progress: start one from the header or the day list."),
      items.length
        ? items.map((e, index) => encounterItem(e, chart, e.status === "in_progress" || (index === 0 && !current.length), redraw))
        : emptyState("No encounters yet."),
      page.next_cursor ? h("p", { class: "footer-note" }, "The 50 most recent encounters are shown.") : null,
    ),
  );
}
