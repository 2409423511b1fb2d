// Charting a full set of NEWS2 observations (/staff/observations/?patient=...&ward=...), sized for a
// phone or tablet at the bedside: the score now and when the next set is due, the form prefilled with
// the monitor's latest values, and afterwards the new score with a way back to the ward.

import { showError } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { requireUser } from "../shared/auth.js";
import { byId, h, replace } from "../shared/dom.js";
import { renderLayout } from "../shared/layout.js";
import { formatDateTime, formatTime } from "../shared/time.js";
import { mrnLabel } from "../shared/words.js";
import { observationForm } from "./observation-form.js";
import { scheduleLine } from "./observation-schedule.js";
import { updateNews2 } from "./ward-tile.js";

const address = new URL(window.location.href).searchParams;

function scaleNote(scale) {
  if (scale.scale !== 2) return "Oxygen saturation is scored on SpO₂ scale 1.";
  const since = scale.set_at ? ` (since ${formatDateTime(scale.set_at)})` : "";
  return `Oxygen saturation is scored on SpO₂ scale 2, target 88–92%${since}: ${scale.reason}`;
}

async function showScore(patientId) {
  const news2 = await api(`/api/v1/patients/${patientId}/news2`);
  updateNews2(byId("news2-now"), news2);
  replace(byId("news2-now-schedule"), scheduleLine(news2));
  return news2;
}

function backLink(patientId, ward) {
  return ward
    ? { href: `/staff/dashboard/?ward=${encodeURIComponent(ward)}`, text: "← Ward dashboard", done: "Back to the ward" }
    : { href: `/staff/patient/?id=${encodeURIComponent(patientId)}#vitals`, text: "← Patient chart", done: "Back to the chart" };
}

async function main() {
  const user = await requireUser(["clinician", "nurse"]);
  if (!user) return;
  renderLayout(user);
  const patientId = address.get("patient");
  if (!patientId) throw Object.assign(new Error("No patient was chosen: open this page from a bed on the ward dashboard."), { title: "No patient" });
  const back = backLink(patientId, address.get("ward"));
  Object.assign(byId("back-link"), { href: back.href, textContent: back.text });
  const [patient, prefill, scale] = await Promise.all([
    api(`/api/v1/patients/${encodeURIComponent(patientId)}`),
    api(`/api/v1/patients/${encodeURIComponent(patientId)}/observation-sets/prefill`),
    api(`/api/v1/patients/${encodeURIComponent(patientId)}/spo2-scale`),
  ]);
  const name = `${patient.given_name} ${patient.family_name}`;
  document.title = `${name} · Chart observations · Ownat`;
  byId("observations-title").textContent = `Chart observations: ${name}`;
  byId("observations-patient").textContent = mrnLabel(patient.mrn);
  byId("spo2-scale-note").textContent = scaleNote(scale);
  await showScore(patientId);
  const area = byId("observation-area");
  const form = observationForm({
    patientId,
    prefill,
    messages: byId("messages"),
    onCharted: async (set) => {
      const news2 = await showScore(patientId);
      const state = news2.complete ? "complete" : "still incomplete";
      replace(
        area,
        h("h2", { id: "observation-area-title" }, "Charted"),
        h("p", {}, `The set taken at ${formatTime(set.recorded_at)} is on ${name}'s chart. NEWS2 is ${news2.total} and ${state}.`),
        h("p", { class: "actions" },
          h("a", { class: "button", href: back.href, id: "done-link" }, back.done),
          h("a", { class: "button button-quiet", href: window.location.href }, "Chart another set")),
      );
      byId("done-link").focus();
      return `Observations charted for ${name}.`;
    },
  });
  replace(area, h("h2", { id: "observation-area-title" }, "A full set"), form);
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(byId("messages"), error));
