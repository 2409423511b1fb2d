// One conversation as a column of messages (the viewer's own on the right), its attachments as
// downloads, and the reply form with files. Shared by the portal, the staff inbox and the chart.

import { clearMessages, showError } from "../shared/alerts.js";
import { api, download } from "../shared/api.js";
import { busy, h, replace } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";

const ROLE_WORDS = { patient: "patient", clinician: "clinician", nurse: "nurse", admin: "administrator" };
// The documents service takes PDF, PNG and JPEG, judged by their content.
export const ACCEPTED_FILES = "application/pdf,image/png,image/jpeg";

function sizeText(bytes) {
  return bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

function attachment(file, messages) {
  const button = h("button", { type: "button", class: "button-quiet" }, `${file.filename} (${sizeText(file.size_bytes)})`);
  button.addEventListener("click", () => download(`/api/v1/documents/${file.document_id}/content`, file.filename).catch((error) => showError(messages, error)));
  return h("li", {}, button);
}

function messageItem(message, { mine, messages }) {
  const who = message.from_patient ? message.author_name : `${message.author_name} (${ROLE_WORDS[message.author_role] ?? message.author_role})`;
  return h(
    "li",
    { class: `message${mine ? " message-mine" : ""}`, dataset: { messageId: message.id } },
    h("div", { class: "message-head" }, h("strong", {}, who), h("span", {}, formatDateTime(message.created_at))),
    h("p", { class: "message-body" }, message.body),
    message.attachments.length ? h("ul", { class: "attachments", "aria-label": "Attachments" }, message.attachments.map((f) => attachment(f, messages))) : null,
  );
}

/** The messages of `thread`; `isMine(message)` says which ones the viewer wrote. */
export function renderMessages(thread, { isMine, messages }) {
  return h(
    "ol",
    { class: "thread-messages", "aria-label": `Messages of “${thread.subject}”` },
    thread.messages.map((message) => messageItem(message, { mine: isMine(message), messages })),
  );
}

/** A reply form: text and up to three files; `onSent(message)` runs after the server stored it. */
export function replyForm(thread, { onSent, messages, label = "Your reply" }) {
  if (thread.status === "closed") return h("p", { class: "empty" }, "This conversation is closed. Start a new one if you need to write again.");
  const form = h(
    "form",
    { class: "stack reply-form", novalidate: true },
    h("label", {}, label, h("textarea", { name: "body", required: true, maxlength: 5000 })),
    h("label", {}, "Attach files (PDF, PNG or JPEG, up to 3)", h("input", { type: "file", name: "files", multiple: true, accept: ACCEPTED_FILES })),
    h("div", { class: "row" }, h("button", { type: "submit" }, "Send")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(messages);
    if (!form.elements.body.value.trim()) {
      form.elements.body.setCustomValidity("Write a message first.");
      form.reportValidity();
      form.elements.body.setCustomValidity("");
      return;
    }
    // Read before `busy` disables the controls: disabled fields are left out of FormData.
    const data = new FormData(form);
    try {
      const sent = await busy(form, () => api(`/api/v1/message-threads/${thread.id}/messages`, { method: "POST", body: data }));
      form.reset();
      await onSent(sent);
    } catch (error) {
      showError(messages, error);
    }
  });
  return form;
}

/** A conversation's list line: subject, care team or patient, when, unread and waiting marks. */
export function threadLine(thread, { onOpen, showPatient }) {
  const open = h("button", { type: "button", class: "thread-open" }, thread.subject);
  open.addEventListener("click", () => onOpen(thread));
  const unread = thread.unread ? h("span", { class: "badge", title: "Unread messages" }, `${thread.unread} new`) : null;
  return h(
    "li",
    { dataset: { threadId: thread.id } },
    h(
      "div",
      { class: "thread-line" },
      open,
      unread,
      thread.status === "closed" ? h("span", { class: "status status-closed" }, "closed") : null,
      showPatient && thread.awaiting_team ? h("span", { class: "badge badge-waiting" }, "waiting for a reply") : null,
    ),
    h("div", { class: "meta" }, showPatient ? `${thread.patient_name} (${thread.patient_mrn}) · ${thread.department_name}` : thread.department_name, " · ", formatDateTime(thread.last_message_at)),
  );
}

/** Opens one conversation into `region`, marks it read, and wires the reply form. */
export async function openThread(region, threadId, { isMine, messages, onChange, actions = () => null }) {
  const thread = await api(`/api/v1/message-threads/${threadId}`);
  const reload = () => openThread(region, threadId, { isMine, messages, onChange, actions });
  replace(
    region,
    h("div", { class: "thread-header" }, h("h3", { tabindex: "-1" }, thread.subject), h("span", { class: "meta" }, thread.department_name), actions(thread, reload)),
    renderMessages(thread, { isMine, messages }),
    replyForm(thread, { onSent: reload, messages }),
  );
  await api(`/api/v1/message-threads/${threadId}/read`, { method: "POST" });
  await onChange?.();
  return thread;
}
