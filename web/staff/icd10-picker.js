// An ICD-10 search field: type a code or words of the description, choose one of the codes found
// (arrow keys and Enter, or a click). The chosen code goes into a hidden input named `name`.

import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";

const DEBOUNCE_MS = 250;
let pickers = 0;

/** A labelled picker; returns its element (a <div>) holding the search box, options and hidden field. */
export function icd10Picker({ label = "Diagnosis (ICD-10)", name = "icd10_code", required = true } = {}) {
  pickers += 1;
  const listId = `icd10-options-${pickers}`;
  const hidden = h("input", { type: "hidden", name });
  const search = h("input", {
    type: "search",
    autocomplete: "off",
    role: "combobox",
    "aria-expanded": "false",
    "aria-controls": listId,
    "aria-autocomplete": "list",
    placeholder: "Code or words, e.g. J45.9 or asthma",
    required,
    "data-picker": "icd10",
  });
  const options = h("ul", { id: listId, role: "listbox", class: "picker-options", hidden: true });
  const chosen = h("p", { class: "meta picker-chosen", "aria-live": "polite" });
  let timer = null;
  let found = [];
  let active = -1;

  const highlight = (index) => {
    active = index;
    [...options.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    const item = options.children[index];
    if (item) {
      search.setAttribute("aria-activedescendant", item.id);
      item.scrollIntoView({ block: "nearest" });
    }
  };
  const choose = (entry) => {
    hidden.value = entry.code;
    search.value = `${entry.code} ${entry.display}`;
    search.setCustomValidity("");
    chosen.textContent = entry.is_leaf ? `Chosen: ${entry.code}, ${entry.display}` : `Chosen: ${entry.code}, ${entry.display} (a category: a more specific code is better)`;
    options.hidden = true;
    search.setAttribute("aria-expanded", "false");
  };
  const lookup = async () => {
    const text = search.value.trim();
    if (text.length < 2) {
      options.hidden = true;
      return;
    }
    found = await api(`/api/v1/codes/icd10?${new URLSearchParams({ q: text, limit: "12" })}`);
    replace(
      options,
      found.length
        ? found.map((entry, i) => h("li", { id: `${listId}-${i}`, role: "option", onclick: () => choose(entry) }, h("strong", {}, entry.code), ` ${entry.display}`))
        : h("li", { role: "option", "aria-disabled": "true" }, "No ICD-10 code matches."),
    );
    options.hidden = false;
    search.setAttribute("aria-expanded", "true");
    active = -1;
  };
  search.addEventListener("input", () => {
    hidden.value = "";
    chosen.textContent = "";
    clearTimeout(timer);
    timer = setTimeout(() => lookup().catch(() => { options.hidden = true; }), DEBOUNCE_MS);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && found.length) {
      event.preventDefault();
      highlight(Math.min(found.length - 1, active + 1));
    } else if (event.key === "ArrowUp" && found.length) {
      event.preventDefault();
      highlight(Math.max(0, active - 1));
    } else if (event.key === "Enter" && !options.hidden && found[active]) {
      event.preventDefault();
      choose(found[active]);
    } else if (event.key === "Escape") {
      options.hidden = true;
      search.setAttribute("aria-expanded", "false");
    }
  });
  const picker = h("div", { class: "picker" }, h("label", {}, label, search), options, chosen, hidden);
  picker.reset = () => {
    hidden.value = "";
    search.value = "";
    chosen.textContent = "";
    options.hidden = true;
  };
  return picker;
}
