// Lab results (released ones) in words for people, prescriptions dated as prescribed, and documents
// of the signed-in patient.

import { emptyState, showError } from "../shared/alerts.js";
import { api, download } from "../shared/api.js";
import { byId, h, replace } from "../shared/dom.js";
import { formatDate, formatDateTime, localDayKey } from "../shared/time.js";

const REPORTED = new Set(["final", "corrected"]);
// Newest reports first; older ones are a click away in a later release.
const MAX_REPORTS = 20;
// Dose units as people write them (the stored codes are UCUM-like).
const DOSE_UNITS = { ug: "µg", "[iU]": "IU" };
const FLAGS_EXPLAINED =
  "High and Low mean outside the range usually found in healthy adults of your sex. Results slightly out of range are common; your care team looks at them with the rest of your health.";

function resultRow(item) {
  // The API says each result in words (clinical/lab/display.py): names, units, range and flag.
  const words = item.explained;
  const result = item.result;
  const flagged = words.flag && result.abnormal_flag !== "N";
  return h(
    "tr",
    {},
    h("th", { scope: "row" }, h("span", { class: "test-name", title: words.code_title }, words.name)),
    h(
      "td",
      { class: flagged ? "flag-abnormal" : null, "data-label": "Result" },
      words.value,
      words.flag ? [" ", h("span", { class: `flag ${flagged ? "flag-out" : "flag-in"}` }, words.flag)] : null,
      words.flag_meaning && flagged ? h("div", { class: "meta" }, words.flag_meaning) : null,
    ),
    h("td", { "data-label": "Usual range" }, words.range ?? "—"),
    h("td", { "data-label": "Taken" }, formatDateTime(result.observed_at ?? result.created_at)),
  );
}

/** The patient's reported lab orders with their results. */
export async function showResults(user) {
  const region = byId("results");
  const page = await api(`/api/v1/lab-orders?patient_id=${user.patient_id}&limit=100`);
  const reported = page.items.filter((o) => REPORTED.has(o.status)).slice(0, MAX_REPORTS);
  const orders = await Promise.all(reported.map((o) => api(`/api/v1/lab-orders/${o.id}`)));
  const withResults = orders.filter((o) => o.items.some((i) => i.result));
  if (!withResults.length) {
    replace(region, emptyState("No lab results yet."));
    return;
  }
  replace(
    region,
    withResults.map((order) =>
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { "aria-label": `Lab results ${order.placer_order_number}`, class: "stack-on-phone" },
          h("caption", {}, `Order ${order.placer_order_number}`),
          h("thead", {}, h("tr", {}, h("th", {}, "Test"), h("th", {}, "Result"), h("th", {}, "Usual range"), h("th", {}, "Taken"))),
          h("tbody", {}, order.items.filter((i) => i.result).map(resultRow)),
        ),
      ),
    ),
    h("p", { class: "meta" }, FLAGS_EXPLAINED, " Hover over a test's name for its laboratory code."),
  );
}

function frequency(f) {
  const per = f.period === 1 ? f.period_unit : `${f.period} ${f.period_unit}`;
  const unit = { h: "hour", d: "day", wk: "week" }[f.period_unit] ?? per;
  const every = f.period === 1 ? `a ${unit}` : `every ${f.period} ${unit}s`;
  return `${f.count} time${f.count > 1 ? "s" : ""} ${every}${f.as_needed ? ", as needed" : ""}`;
}

/** The patient's prescriptions, newest first. */
export async function showPrescriptions(user) {
  const region = byId("prescriptions");
  const page = await api(`/api/v1/prescriptions?patient_id=${user.patient_id}&limit=100`);
  if (!page.items.length) {
    replace(region, emptyState("No prescriptions."));
    return;
  }
  replace(
    region,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { "aria-label": "Prescriptions", class: "stack-on-phone" },
        h("thead", {}, h("tr", {}, h("th", {}, "Medication"), h("th", {}, "Dose"), h("th", {}, "How often"), h("th", {}, "Status"), h("th", {}, "Prescribed"))),
        h(
          "tbody",
          {},
          page.items.map((p) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, p.medication.name, p.instructions ? h("div", { class: "meta" }, p.instructions) : null),
              h("td", { "data-label": "Dose" }, `${p.dose.quantity} ${DOSE_UNITS[p.dose.unit] ?? p.dose.unit} (${p.route})`),
              h("td", { "data-label": "How often" }, frequency(p.frequency), p.duration_days ? ` for ${p.duration_days} days` : ""),
              h("td", { "data-label": "Status" }, h("span", { class: `status status-${p.status}` }, p.status)),
              h("td", { "data-label": "Prescribed" }, formatDate(localDayKey(p.prescribed_at))),
            ),
          ),
        ),
      ),
    ),
  );
}

/** The patient's documents, each with a download button. */
export async function showDocuments(user) {
  const region = byId("documents");
  const page = await api(`/api/v1/patients/${user.patient_id}/documents?limit=100`);
  if (!page.items.length) {
    replace(region, emptyState("No documents."));
    return;
  }
  replace(
    region,
    page.items.map((doc) =>
      h(
        "li",
        {},
        h("div", {}, h("strong", {}, doc.title), h("div", { class: "meta" }, `${doc.kind} · ${doc.filename} · ${Math.ceil(doc.size_bytes / 1024)} KB · ${formatDateTime(doc.created_at)}`)),
        h(
          "button",
          {
            type: "button",
            class: "button-quiet",
            "aria-label": `Download ${doc.title}`,
            onclick: async () => {
              try {
                await download(`/api/v1/documents/${doc.id}/content`, doc.filename);
              } catch (error) {
                showError(byId("messages"), error);
              }
            },
          },
          "Download",
        ),
      ),
    ),
  );
}
