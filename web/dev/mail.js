// The development mailbox: the newest emails `ownat dev` would have sent, with their links clickable.

import { emptyState, showError } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { byId, h, replace } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";

// The emails' links (sign-in, confirmation, reset), made clickable; the text stays text.
function linkify(text) {
  const parts = [];
  const pattern = /https?:\/\/[^\s]+/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    parts.push(text.slice(last, match.index), h("a", { href: match[0] }, match[0]));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

async function load() {
  const list = byId("mail");
  const emails = await api("/dev/mail/messages");
  if (!emails.length) {
    replace(list, h("li", {}, emptyState("No email yet. Sign up or ask for a password reset, then refresh.")));
    return;
  }
  replace(
    list,
    emails.map((mail) =>
      h(
        "li",
        { class: "card" },
        h("div", { class: "mail-head" }, h("h2", {}, mail.title), h("span", { class: "meta" }, `To ${mail.address} · ${formatDateTime(mail.created_at)} · ${mail.status}`)),
        h("pre", { class: "mail-body" }, linkify(mail.body)),
      ),
    ),
  );
}

byId("refresh").addEventListener("click", () => load().catch((error) => showError(byId("messages"), error)));
load()
  .catch((error) => showError(byId("messages"), error))
  .finally(() => { document.body.dataset.ready = "true"; });
