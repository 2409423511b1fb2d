// The billing page's dialogs: a form inside a <dialog>, one Idempotency-Key per attempt.

import { showError } from "../shared/alerts.js";
import { busy, byId, replace } from "../shared/dom.js";

/**
 * Wires dialog `name` (#name-dialog, #name-form, #name-messages). `open(context)` shows it;
 * `submit(form, context)` runs with the form disabled; an error stays in the dialog.
 */
export function bindDialog(name, { prepare, submit }) {
  const dialog = byId(`${name}-dialog`);
  const form = byId(`${name}-form`);
  const messages = byId(`${name}-messages`);
  let context = null;
  dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(form, async () => {
      try {
        await submit(form, context);
        dialog.close();
      } catch (error) {
        showError(messages, error);
      }
    });
  });
  return (value) => {
    // A new key per opening: a retry after a lost answer (same opening) cannot pay twice.
    context = { ...value, key: crypto.randomUUID() };
    form.reset();
    replace(messages);
    prepare(form, context);
    dialog.showModal();
  };
}
