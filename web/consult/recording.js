// Recording with consent: each party's consent switch; the clinician starts the server's recorder,
// which joins the room like a guest and is admitted at once, and stops it.

import { api } from "../shared/api.js";

/** Binds the consent checkbox of `encounterId`; `onState(state)` gets the recorder's state. */
export function bindConsent(checkbox, encounterId, onState) {
  const base = `/api/v1/encounters/${encounterId}/recording`;
  const mine = (state) => (checkbox.dataset.party === "patient" ? state.patient_consent : state.clinician_consent);
  const refresh = async () => {
    const state = await api(base);
    checkbox.checked = mine(state);
    onState(state);
    return state;
  };
  checkbox.addEventListener("change", async () => {
    const state = await api(`${base}/consent`, { method: "PUT", json: { consent: checkbox.checked } });
    checkbox.checked = mine(state);
    onState(state);
  });
  // Both parties see when the recorder is running: the state is read again every few seconds (the
  // checkbox is left alone, so that a click in between is never undone by an older answer).
  const timer = setInterval(() => api(base).then(onState, () => {}), 2000);
  return {
    refresh,
    dispose: () => clearInterval(timer),
    /** Sends the recorder into the waiting room; returns its participant id, to admit. */
    start: async () => (await api(`${base}/recorder`, { method: "POST" })).participant_id,
    /** Stops the recorder; the document it became, or null. */
    stop: () => api(`${base}/stop`, { method: "POST" }),
  };
}
