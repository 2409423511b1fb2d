// The billing office's dialogs: a form in a modal <dialog>, built for the task at hand. A refusal is
// explained inside the dialog (fields marked, in words) and the dialog stays open; each opening has
// its own Idempotency-Key, so a retry after a lost answer cannot pay or refund twice.

import { clearMessages } from "../shared/alerts.js";
import { busy, h } from "../shared/dom.js";
import { clearFieldErrors, showFormError, values } from "../shared/forms.js";

let opened = 0;

/**
 * Opens a dialog titled `title` holding `fields` (nodes) and a submit button. `submit(data, form, key)`
 * runs with the form disabled; its resolved value is what the returned promise resolves to (null if
 * the dialog is closed without submitting).
 */
export function formDialog({ title, intro = null, fields = [], submitLabel, danger = false, submit, id = null }) {
  opened += 1;
  const key = crypto.randomUUID();
  const titleId = `dialog-title-${opened}`;
  const messages = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "stack", id: id ? `${id}-form` : null, novalidate: true },
    h("h2", { id: titleId }, title),
    intro ? h("p", {}, intro) : null,
    fields,
    messages,
    h("div", { class: "row" },
      h("button", { type: "submit", class: danger ? "button-danger" : null }, submitLabel),
      h("button", { type: "button", class: "button-quiet", "data-close": "" }, "Close")),
  );
  const dialog = h("dialog", { class: "form-dialog", id, "aria-labelledby": titleId }, form);
  return new Promise((resolve) => {
    let result = null;
    form.querySelector("[data-close]").addEventListener("click", () => dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessages(messages);
      clearFieldErrors(form);
      const data = values(form);
      try {
        result = await busy(form, () => submit(data, form, key));
        dialog.close();
      } catch (error) {
        showFormError(form, messages, error);
      }
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    form.querySelector("input:not([type=hidden]), select, textarea")?.focus();
  });
}

/** An Error whose title and message the page shows as they are (a check made before calling the API). */
export function problem(title, message) {
  return Object.assign(new Error(message), { title });
}
