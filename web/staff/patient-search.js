// Patient search by name, MRN (or another identifier) and birth date; each result opens the chart.

import { clearMessages, emptyState, showError } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { busy, byId, h, replace } from "../shared/dom.js";
import { values } from "../shared/forms.js";
import { ageInYears, formatDate } from "../shared/time.js";
import { word } from "../shared/words.js";

function result(patient) {
  const age = ageInYears(patient.birth_date);
  const born = patient.birth_date ? `born ${formatDate(patient.birth_date)}${age === null ? "" : ` (${age} years)`}` : "birth date not recorded";
  return h(
    "li",
    { dataset: { patientId: patient.id } },
    h(
      "div",
      {},
      h("a", { href: `/staff/patient/?id=${encodeURIComponent(patient.id)}` }, `${patient.given_name} ${patient.family_name}`.trim()),
      h("div", { class: "meta" }, `${patient.mrn} · ${born} · ${word("gender", patient.gender)}`),
    ),
  );
}

export function bindPatientSearch(form) {
  const messages = byId("search-messages");
  const results = byId("search-results");
  form.addEventListener("reset", () => {
    clearMessages(messages);
    replace(results);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(messages);
    const criteria = values(form);
    if (!Object.keys(criteria).length) {
      showError(messages, { title: "Nothing to search for", message: "Enter a name, an MRN or a birth date." });
      form.elements.name.focus();
      return;
    }
    try {
      const page = await busy(form, () => api(`/api/v1/patients?${new URLSearchParams({ ...criteria, limit: "20" })}`));
      replace(
        results,
        page.items.length
          ? [
              h("p", { class: "footer-note" }, page.total > page.items.length ? `The first ${page.items.length} of ${page.total} patients:` : `${page.total} patient${page.total === 1 ? "" : "s"} found:`),
              h("ul", { class: "list", "aria-label": "Patients found" }, page.items.map(result)),
            ]
          : emptyState("No patient matches. Check the spelling, or search by MRN or birth date."),
      );
    } catch (error) {
      showError(messages, error);
    }
  });
}
