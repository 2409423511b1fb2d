// Recording with consent: each party's consent switch, and sending this party's media to the
// server's recorder once both have consented.

import { api } from "../shared/api.js";
import { connectToServerPeer } from "./media.js";

/** Binds the consent checkbox of `encounterId`; `onState(state)` gets the recorder's state. */
export function bindConsent(checkbox, encounterId, stream, onState) {
  const base = `/api/v1/encounters/${encounterId}/recording`;
  let recorderPc = null;
  const sendMedia = async (state) => {
    if (state.patient_consent && state.clinician_consent && !recorderPc) {
      recorderPc = new RTCPeerConnection({ iceServers: [] });
      await connectToServerPeer(recorderPc, stream, `${base}/media`);
    }
    if (!(state.patient_consent && state.clinician_consent) && recorderPc) {
      recorderPc.close();
      recorderPc = null;
    }
  };
  const refresh = async () => {
    const state = await api(base);
    checkbox.checked = checkbox.dataset.party === "patient" ? state.patient_consent : state.clinician_consent;
    await sendMedia(state);
    onState(state);
    return state;
  };
  checkbox.addEventListener("change", async () => {
    const state = await api(`${base}/consent`, { method: "PUT", json: { consent: checkbox.checked } });
    await sendMedia(state);
    onState(state);
  });
  return { refresh, stop: () => api(`${base}/stop`, { method: "POST" }) };
}
