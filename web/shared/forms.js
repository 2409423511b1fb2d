// Forms and tables the signed-in pages share: labelled fields, tables with an empty state, and forms
// that submit once, then say what happened: a confirmation, or the server's reason in words with
// each refused field marked and named by its label.

import { clearMessages, emptyState, showError, showNotice } from "./alerts.js";
import { busy, h, replace } from "./dom.js";

/** A labelled input; `attrs` go to the <input>. */
export function field(label, attrs) {
  return h("label", {}, label, h("input", { type: "text", ...attrs }));
}

/** A labelled <select>; `options` are [value, text] pairs. */
export function choice(label, attrs, options) {
  return h("label", {}, label, h("select", attrs, options.map(([value, text]) => h("option", { value }, text))));
}

/** A labelled <textarea>. */
export function textArea(label, attrs) {
  return h("label", {}, label, h("textarea", attrs));
}

/** A table with a caption; `rows` are {cells, attrs}; shows `empty` when there are none. */
export function table({ caption, columns, rows, empty, id }) {
  if (!rows.length) return emptyState(empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { id },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((row) => h("tr", row.attrs ?? {}, row.cells.map((cell) => h("td", {}, cell))))),
    ),
  );
}

/** A card with a heading (`id` labels it for assistive technology). */
export function card(id, title, ...children) {
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

/** The form's fields as an object, without the empty ones (the API treats absent as "not given"). */
export function values(form) {
  const out = {};
  for (const [name, value] of new FormData(form).entries()) {
    if (value instanceof File) continue;
    if (String(value).trim() !== "") out[name] = String(value).trim();
  }
  return out;
}

/** A query string from an object, skipping empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

function labelOf(control) {
  const label = control.closest("label") ?? (control.id ? document.querySelector(`label[for="${control.id}"]`) : null);
  const text = label ? [...label.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join(" ") : "";
  return text.trim() || control.name;
}

function controlFor(form, pointer) {
  // "#/body/dose/quantity" -> "dose.quantity", then "quantity": forms name fields either way.
  const parts = pointer.replace(/^#\//, "").split("/").filter((p) => p !== "body" && p !== "query");
  for (const name of [parts.join("."), parts.at(-1)]) {
    const control = name ? form.elements.namedItem(name) : null;
    if (control instanceof Element) return control;
  }
  return null;
}

/** Clears the marks of an earlier refusal. */
export function clearFieldErrors(form) {
  for (const note of form.querySelectorAll(".field-error")) note.remove();
  for (const control of form.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
    control.removeAttribute("aria-describedby");
  }
}

// Pydantic prefixes the reasons a validator gives; people need only the reason.
const plain = (detail) => String(detail ?? "").replace(/^Value error, /, "");

/**
 * Shows why the server refused `form`: each field it names is marked and explained beside it, and
 * `region` says in words what to fix (with the field's label, never a JSON pointer).
 */
export function showFormError(form, region, error) {
  clearFieldErrors(form);
  const named = [...(error.problem?.errors ?? [])];
  if (error.problem?.field) named.push({ pointer: error.problem.field, detail: error.message });
  if (!named.length) {
    showError(region, error);
    return;
  }
  const explained = named.map((problem, index) => {
    const control = controlFor(form, problem.pointer ?? "");
    if (!control) return plain(problem.detail);
    const id = `${form.id || "form"}-error-${index}`;
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", id);
    (control.closest("label") ?? control).append(h("span", { class: "field-error", id }, plain(problem.detail)));
    return `${labelOf(control)}: ${plain(problem.detail)}`;
  });
  showError(region, { title: "Please check the form", message: explained.join(" · ") });
  form.querySelector("[aria-invalid]")?.focus();
}

/**
 * Wires `form`: on submit runs `work(values, form)` with the controls disabled; a string it returns is
 * shown as a confirmation in `messages`, an error as the server's explanation beside the fields.
 */
export function onSubmit(form, messages, work) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(messages);
    clearFieldErrors(form);
    // Read before `busy` disables the controls: disabled fields are left out of FormData.
    const data = values(form);
    try {
      const notice = await busy(form, () => work(data, form));
      if (typeof notice === "string") showNotice(messages, notice);
    } catch (error) {
      showFormError(form, messages, error);
    }
  });
  return form;
}

/** Runs `work` for a button click, showing its confirmation or error in `messages`. */
export async function act(messages, work) {
  clearMessages(messages);
  try {
    const notice = await work();
    if (typeof notice === "string") showNotice(messages, notice);
  } catch (error) {
    showError(messages, error);
  }
}

/** Shows "Loading…" in `region` while `work` runs, then whatever `work` returns (nodes). */
export async function loading(region, work) {
  replace(region, h("p", { class: "loading", role: "status" }, "Loading…"));
  region.setAttribute("aria-busy", "true");
  try {
    replace(region, await work());
  } finally {
    region.removeAttribute("aria-busy");
  }
}
