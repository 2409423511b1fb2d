// The staff triage inbox: a care team's conversations (those waiting for a reply first), one
// conversation with the reply form, closing what needs nothing more.

import { emptyState, showError } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { requireUser } from "../shared/auth.js";
import { byId, h, replace } from "../shared/dom.js";
import { renderLayout } from "../shared/layout.js";
import { openThread, threadLine } from "../messages/thread-view.js";

const FILTERS = {
  waiting: { status: "open", awaiting_team: "true" },
  open: { status: "open" },
  closed: { status: "closed" },
};

function describe(inbox) {
  return `${inbox.name}: ${inbox.awaiting_team} waiting, ${inbox.open} open`;
}

function closeAction(messages) {
  return (thread, reload) => {
    if (thread.status !== "open") return null;
    const button = h("button", { type: "button", class: "button-quiet" }, "Close conversation");
    button.addEventListener("click", async () => {
      try {
        await api(`/api/v1/message-threads/${thread.id}/close`, { method: "POST" });
        await reload();
      } catch (error) {
        showError(messages, error);
      }
    });
    return h("span", {}, h("a", { href: `/staff/patient/?id=${thread.patient_id}` }, `${thread.patient_name}'s chart`), " ", button);
  };
}

async function main() {
  const user = await requireUser(["admin", "clinician", "nurse"]);
  if (!user) return;
  renderLayout(user);
  const messages = byId("messages");
  const select = byId("department-select");
  const show = byId("show-select");
  const list = byId("thread-list");
  const view = byId("thread-view");
  const more = byId("more");
  let cursor = null;

  const loadInboxes = async () => {
    const chosen = select.value;
    const inboxes = await api("/api/v1/message-threads/inboxes");
    replace(select, inboxes.map((inbox) => h("option", { value: inbox.department_id }, describe(inbox))));
    if (chosen) select.value = chosen;
    const current = inboxes.find((inbox) => inbox.department_id === select.value);
    byId("list-title").textContent = current ? `Conversations: ${current.awaiting_team} waiting, ${current.open} open` : "Conversations";
  };
  const loadList = async (reset = true) => {
    if (reset) cursor = null;
    const params = new URLSearchParams({ department_id: select.value, limit: "30", ...FILTERS[show.value] });
    if (cursor) params.set("cursor", cursor);
    const page = await api(`/api/v1/message-threads?${params}`);
    const lines = page.items.map((t) => threadLine(t, { showPatient: true, onOpen: (thread) => open(thread.id) }));
    if (reset) replace(list, lines.length ? lines : h("li", {}, emptyState("Nothing here.")));
    else list.append(...lines);
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  const refresh = async () => {
    await loadInboxes();
    await loadList();
  };
  const open = async (threadId) => {
    await openThread(view, threadId, { isMine: (m) => !m.from_patient, messages, onChange: refresh, actions: closeAction(messages) });
    view.querySelector("h3")?.focus();
  };
  const guard = (work) => work().catch((error) => showError(messages, error));
  select.addEventListener("change", () => guard(refresh));
  show.addEventListener("change", () => guard(loadList));
  more.addEventListener("click", () => guard(() => loadList(false)));
  await loadInboxes();
  await loadList();
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(byId("messages"), error));
