// What the billing office's sections share: money in and out (integer minor units, never a float),
// statuses in words, and finding a patient by name or MRN.

import { showError } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { formatMoney, moneyInput, parseMoney } from "../portal/billing_money.js";
import { formatDate } from "../shared/time.js";
import { word } from "../shared/words.js";
import { problem } from "./dialogs.js";

export { formatMoney as money, moneyInput };

/** The amount typed in `text` in minor units; a problem naming `label` if it is not an amount. */
export function amountOf(text, currency, label = "Amount", { allowZero = false } = {}) {
  const amount = parseMoney(String(text ?? ""), currency);
  if (amount === null || (!allowZero && amount <= 0)) {
    throw problem("Please check the amount", `${label}: enter an amount in ${currency}, such as 12.50.`);
  }
  return amount;
}

/** A status chip: the status in words, its code kept for styling. */
export function statusChip(kind, status) {
  return h("span", { class: `status status-${status}` }, word(kind, status));
}

/** "Pat Jensen" over "MRN-0000000018 · born 22 Jul 1986". */
export function patientCell(name, mrn, birthDate = null) {
  return h("div", {}, h("strong", {}, name || "Unknown patient"),
    h("div", { class: "meta" }, h("span", { class: "mrn" }, mrn), birthDate ? ` · born ${formatDate(birthDate)}` : null));
}

/** Patients (billing accounts) matching what was typed: a name, an MRN, or nothing (those with work). */
export function findAccounts(text, limit = 20) {
  const typed = text.trim();
  const params = new URLSearchParams({ limit: String(limit) });
  if (/^(mrn-)?\d{4,}$/i.test(typed)) params.set("identifier", typed);
  else if (typed) params.set("name", typed);
  return api(`/api/v1/billing/patients?${params}`);
}

/**
 * A patient search box: type a name or MRN, press Search, choose one of the patients found.
 * `onChoose(account)` runs with the chosen billing account; returns the element.
 */
export function patientPicker({ label = "Patient (name or MRN)", onChoose, messages }) {
  const input = h("input", { type: "search", autocomplete: "off", placeholder: "e.g. jensen or MRN-0000000018", name: "patient_search" });
  const results = h("ul", { class: "list picker-results", "aria-live": "polite" });
  const search = async () => {
    const found = await findAccounts(input.value);
    replace(results, found.length
      ? found.map((account) => h("li", {}, patientCell(account.name, account.mrn, account.birth_date),
          h("button", { type: "button", class: "button-quiet", onclick: () => { replace(results); onChoose(account); } }, "Choose")))
      : h("li", { class: "empty" }, "No patient matches."));
  };
  const run = () => search().catch((error) => showError(messages, error));
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      run();
    }
  });
  return h("div", { class: "patient-picker" },
    h("div", { class: "row" }, h("label", {}, label, input), h("button", { type: "button", onclick: run }, "Find patient")),
    results);
}

/**
 * Lets a table of `wrap` become a list of cards on a tablet or a phone (billing.css): each cell is
 * labelled with its column's heading, which the narrow layout shows beside the value.
 */
export function responsive(wrap) {
  const table = wrap.querySelector("table");
  const labels = [...table.tHead.rows[0].cells].map((cell) => cell.textContent.trim());
  for (const row of table.tBodies[0].rows) {
    [...row.cells].forEach((cell, index) => labels[index] && cell.setAttribute("data-label", labels[index]));
  }
  table.classList.add("responsive");
  return wrap;
}
