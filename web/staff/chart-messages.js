// A patient's conversations with their care teams, for the clinician's chart: mount it into any
// element with mountChartMessages(element, { patientId }). It draws its own heading, list and
// conversation view (styles: /static/messages/messages.css) and reports errors inside itself.

import { emptyState, showError } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { openThread, threadLine } from "../messages/thread-view.js";

/** Shows the patient's conversations in `container`; returns a function that reloads them. */
export async function mountChartMessages(container, { patientId }) {
  const messages = h("div", { "aria-live": "polite" });
  const list = h("ul", { class: "list thread-list", "aria-label": "Conversations with care teams" });
  const view = h("div", { class: "chart-thread" });
  replace(container, h("h2", {}, "Messages"), messages, h("div", { class: "inbox-layout" }, list, view));
  const load = async () => {
    const page = await api(`/api/v1/message-threads?patient_id=${encodeURIComponent(patientId)}&limit=50`);
    const open = (thread) =>
      openThread(view, thread.id, { isMine: (m) => !m.from_patient, messages, onChange: load }).catch((error) => showError(messages, error));
    replace(list, page.items.length ? page.items.map((t) => threadLine(t, { onOpen: open })) : h("li", {}, emptyState("No messages with this patient.")));
  };
  try {
    await load();
  } catch (error) {
    showError(messages, error);
  }
  return load;
}
