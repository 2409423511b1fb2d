// The consent page of a SMART app: the signed-in user sees the app and what it asks, in words,
// chooses the patient when a clinician launches it on its own, and allows or denies.

import { clearMessages, emptyState, showError } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { bindSignInForm } from "../shared/auth.js";
import { busy, byId, h, replace } from "../shared/dom.js";
import { getSession } from "../shared/session.js";
import { formatDate } from "../shared/time.js";

const requestId = new URLSearchParams(window.location.search).get("request") ?? "";
const messages = byId("messages");
let chosenPatient = null;

function patientLabel(patient) {
  const born = patient.birth_date ? `, born ${formatDate(patient.birth_date)}` : "";
  return `${patient.given_name} ${patient.family_name}`.trim() + ` (${patient.mrn}${born})`;
}

async function showFixedPatient(patientId) {
  const patient = await api(`/api/v1/patients/${encodeURIComponent(patientId)}`);
  replace(byId("patient-context"), h("p", {}, "With the record of ", h("strong", {}, patientLabel(patient)), "."));
}

function bindPicker() {
  const form = byId("picker-form");
  const results = byId("picker-results");
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(messages);
    const text = form.elements.name.value.trim();
    if (!text) {
      form.elements.name.focus();
      return;
    }
    const criteria = /^MRN-/i.test(text) ? { identifier: text } : { name: text };
    try {
      const page = await busy(form, () => api(`/api/v1/patients?${new URLSearchParams({ ...criteria, limit: "20" })}`));
      chosenPatient = null;
      results.hidden = false;
      replace(
        results,
        h("legend", {}, "Choose the patient"),
        page.items.length
          ? page.items.map((patient) =>
              h(
                "label",
                {},
                h("input", { type: "radio", name: "patient", value: patient.id, onchange: () => { chosenPatient = patient.id; } }),
                ` ${patientLabel(patient)}`,
              ),
            )
          : emptyState("No patient matches. Check the spelling, or search by MRN."),
      );
    } catch (error) {
      showError(messages, error);
    }
  });
}

async function answer(decision) {
  clearMessages(messages);
  const section = byId("consent");
  try {
    const body = decision === "approve" ? { patient_id: chosenPatient } : undefined;
    const next = await busy(section, () =>
      api(`/api/v1/smart/authorizations/${encodeURIComponent(requestId)}/${decision}`, { method: "POST", json: body }),
    );
    window.location.assign(next.redirect_to);
  } catch (error) {
    showError(messages, error);
  }
}

async function showConsent() {
  const request = await api(`/api/v1/smart/authorizations/${encodeURIComponent(requestId)}`);
  byId("title").textContent = `Allow ${request.app_name} to use Ownat?`;
  byId("consent-intro").textContent = `${request.app_name} asks to:`;
  replace(byId("consent-scopes"), request.scopes.map((item) => h("li", { title: item.scope }, item.words)));
  replace(byId("consent-return"), `Either way, you go back to the app at ${request.redirect_host}.`);
  if (request.patient_id) await showFixedPatient(request.patient_id);
  if (request.patient_picker) bindPicker();
  byId("allow").addEventListener("click", () => {
    if (request.patient_picker && !chosenPatient) {
      showError(messages, { title: "Choose a patient", message: "Find and choose the patient the app opens with." });
      return;
    }
    answer("approve");
  });
  byId("deny").addEventListener("click", () => answer("deny"));
  byId("consent").hidden = false;
}

async function start() {
  if (!requestId) {
    showError(messages, { title: "Nothing to allow", message: "Open this page from the app that asks for access." });
    return;
  }
  if (!getSession()) {
    const form = byId("signin-form");
    form.hidden = false;
    bindSignInForm(form, {
      onSignedIn: async () => {
        form.hidden = true;
        await showConsent().catch((error) => showError(messages, error));
      },
      onError: (error) => showError(messages, error),
    });
    return;
  }
  await showConsent();
}

start()
  .catch((error) => showError(messages, error))
  .finally(() => {
    document.body.dataset.ready = "true";
  });
