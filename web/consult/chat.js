// The consultation's chat: lines from the room, and a form that sends one.

import { h } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";

/** Appends a chat line to `list` and keeps the newest line in view. */
export function showChatLine(list, line, myId) {
  const mine = line.from === myId;
  list.append(
    h(
      "li",
      { class: mine ? "chat-mine" : "chat-theirs", dataset: { chatId: line.id } },
      h("span", { class: "meta" }, `${mine ? "You" : line.display_name} · ${formatDateTime(line.sent_at)}`),
      h("p", {}, line.text),
    ),
  );
  list.lastElementChild.scrollIntoView({ block: "nearest" });
}

/** Sends the form's text through `send(text)` and clears it. */
export function bindChatForm(form, send) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = form.elements.text;
    const text = input.value.trim();
    if (!text) return;
    send(text);
    input.value = "";
  });
}
