// The portal's Messages tab: conversations with care teams (unread ones marked), a new message with
// attachments, one conversation with the reply form. The tab's label carries the unread count.

import { clearMessages, emptyState, showError } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { busy, byId, h, replace } from "../shared/dom.js";
import { ACCEPTED_FILES, openThread, threadLine } from "../messages/thread-view.js";

/** Updates the tab's unread badge ("Messages 2"). */
export async function refreshUnreadBadge() {
  const { unread } = await api("/api/v1/message-threads/unread-count");
  const badge = byId("unread-badge");
  badge.textContent = String(unread);
  badge.hidden = unread === 0;
  badge.title = `${unread} unread message${unread === 1 ? "" : "s"}`;
}

function newThreadForm(teams, { onStarted, messages }) {
  const form = h(
    "form",
    { class: "stack", id: "new-thread-form", novalidate: true, hidden: true },
    h("label", {}, "Care team", h("select", { name: "department_id", required: true }, teams.map((t) => h("option", { value: t.id }, t.name)))),
    h("label", {}, "Subject", h("input", { name: "subject", required: true, maxlength: 200 })),
    h("label", {}, "Message", h("textarea", { name: "body", required: true, maxlength: 5000 })),
    h("label", {}, "Attach files (PDF, PNG or JPEG, up to 3)", h("input", { type: "file", name: "files", multiple: true, accept: ACCEPTED_FILES })),
    h("div", { class: "row" }, h("button", { type: "submit" }, "Send"), h("button", { type: "button", class: "button-quiet", id: "new-thread-cancel" }, "Cancel")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(messages);
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    // Read before `busy` disables the controls: disabled fields are left out of FormData.
    const data = new FormData(form);
    try {
      const thread = await busy(form, () => api("/api/v1/message-threads", { method: "POST", body: data }));
      form.reset();
      form.hidden = true;
      await onStarted(thread);
    } catch (error) {
      showError(messages, error);
    }
  });
  form.querySelector("#new-thread-cancel").addEventListener("click", () => { form.hidden = true; });
  return form;
}

/** Fills the Messages tab for the signed-in patient. */
export async function showMessages() {
  const region = byId("conversations");
  const messages = h("div", { id: "conversation-messages", "aria-live": "polite" });
  const list = h("ul", { class: "list thread-list", id: "thread-list", "aria-label": "Conversations" });
  const view = h("div", { id: "thread-view" }, h("p", { class: "empty" }, "Choose a conversation to read it, or write a new message."));
  const teams = await api("/api/v1/message-threads/care-teams");
  const isMine = (message) => message.from_patient;
  const open = async (threadId) => {
    await openThread(view, threadId, { isMine, messages, onChange: loadList });
    view.querySelector("h3")?.focus();
  };
  const loadList = async () => {
    const page = await api("/api/v1/message-threads?limit=50");
    replace(list, page.items.length ? page.items.map((t) => threadLine(t, { onOpen: (thread) => open(thread.id) })) : h("li", {}, emptyState("No messages yet.")));
    await refreshUnreadBadge();
  };
  const form = newThreadForm(teams, { messages, onStarted: async (thread) => { await loadList(); await open(thread.id); } });
  const write = h("button", { type: "button", id: "new-thread-button" }, "New message");
  write.addEventListener("click", () => { form.hidden = false; form.elements.department_id.focus(); });
  replace(
    region,
    h("div", { class: "thread-header" }, h("h2", {}, "Messages with your care team"), write),
    h("p", { class: "footer-note" }, "For questions that can wait a day or two; your care team answers in working hours. In an emergency, call your local emergency number."),
    form,
    messages,
    h("div", { class: "inbox-layout" }, list, view),
  );
  await loadList();
}
