// SMART apps a clinician opens from the chart (EHR launch): the app starts with this patient and
// this user, after the user's consent; it opens in a new tab so the chart stays where it was.

import { showError } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { byId, h } from "../shared/dom.js";

async function launch(chart, app) {
  try {
    const opened = await api("/api/v1/smart/launches", {
      method: "POST",
      json: { client_id: app.client_id, patient_id: chart.patient.id },
    });
    window.open(opened.url, "_blank", "noopener");
  } catch (error) {
    showError(chart.messages, error);
  }
}

/** Adds an "Open <app>" button to the chart's actions for each app a chart can launch. */
export async function renderAppLaunchers(chart) {
  const apps = await api("/api/v1/smart/launchable-apps");
  const actions = byId("chart-actions");
  actions.querySelectorAll("[data-client-id]").forEach((button) => button.remove());
  for (const app of apps) {
    actions.append(h("button", { type: "button", class: "button-quiet", dataset: { clientId: app.client_id }, onclick: () => launch(chart, app) }, `Open ${app.name}`));
  }
}
