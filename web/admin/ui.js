// Small building blocks the administration sections share: labelled fields, tables, forms that show
// the server's problem+json detail, and query strings.

import { clearMessages, emptyState, showError, showNotice } from "../shared/alerts.js";
import { busy, h, replace } from "../shared/dom.js";

/** A labelled input; `attrs` go to the <input>. */
export function field(label, attrs) {
  return h("label", {}, label, h("input", { type: "text", ...attrs }));
}

/** A labelled <select>; `options` are [value, text] pairs. */
export function choice(label, attrs, options) {
  return h("label", {}, label, h("select", attrs, options.map(([value, text]) => h("option", { value }, text))));
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

/** The form's fields as an object, without the empty ones (the API treats absent as "not given"). */
export function values(form) {
  const out = {};
  for (const [name, value] of new FormData(form).entries()) {
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

/**
 * Wires `form`: on submit runs `work(values)` with the controls disabled; a string it returns is shown
 * as a confirmation, an error as the server's explanation.
 */
export function onSubmit(form, messages, work) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(messages);
    // Read before `busy` disables the controls: disabled fields are left out of FormData.
    const data = values(form);
    try {
      const notice = await busy(form, () => work(data));
      if (typeof notice === "string") showNotice(messages, notice);
    } catch (error) {
      showError(messages, error);
    }
  });
  return form;
}

/** Runs `work` for a button click, showing its confirmation or error. */
export async function act(messages, work) {
  clearMessages(messages);
  try {
    const notice = await work();
    if (typeof notice === "string") showNotice(messages, notice);
  } catch (error) {
    showError(messages, error);
  }
}

/** A card with a heading (`id` labels it for assistive technology). */
export function card(id, title, ...children) {
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

export function fill(element, ...children) {
  return replace(element, ...children);
}
