// Asking before an action that cannot be undone (sign a note, void an invoice, cancel a visit): a
// modal dialog that says what will happen, optionally asks for a reason, and keeps the keyboard in
// it; Escape or "Go back" answers no.

import { h } from "./dom.js";

/**
 * Resolves to `{ reason }` when the person confirms (the reason is "" without `reasonLabel`), or
 * null when they go back. `details` are extra lines (strings or nodes) shown under the message.
 */
export function confirmAction({ title, message, details = [], confirmLabel, danger = false, reasonLabel = null }) {
  return new Promise((resolve) => {
    const reason = reasonLabel
      ? h("label", {}, reasonLabel, h("textarea", { name: "reason", required: true, maxlength: 500, rows: 3 }))
      : null;
    const form = h(
      "form",
      { method: "dialog", class: "stack" },
      h("h2", { id: "confirm-title" }, title),
      h("p", {}, message),
      details.length ? h("ul", { class: "confirm-details" }, details.map((d) => h("li", {}, d))) : null,
      reason,
      h(
        "div",
        { class: "row" },
        h("button", { type: "submit", value: "confirm", class: danger ? "button-danger" : null }, confirmLabel),
        h("button", { type: "button", value: "back", class: "button-quiet", "data-back": "" }, "Go back"),
      ),
    );
    const dialog = h("dialog", { class: "confirm-dialog", "aria-labelledby": "confirm-title" }, form);
    let answer = null;
    form.addEventListener("submit", (event) => {
      const text = reason?.querySelector("textarea").value.trim() ?? "";
      if (reason && !text) {
        event.preventDefault();
        reason.querySelector("textarea").focus();
        return;
      }
      answer = { reason: text };
    });
    form.querySelector("[data-back]").addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    (reason?.querySelector("textarea") ?? form.querySelector("[data-back]")).focus();
  });
}
