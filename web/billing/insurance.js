// Payers (the insurers the office claims from) and patients' coverages: add a payer, find a patient,
// see their coverages, add one and end one (after a confirmation).

import { clearMessages, emptyState, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { confirmAction } from "../shared/confirm.js";
import { h, replace } from "../shared/dom.js";
import { card, choice, field, onSubmit } from "../shared/forms.js";
import { dateInputValue, formatDate } from "../shared/time.js";
import { word } from "../shared/words.js";
import { patientPicker } from "./office.js";

function payerForm(office, redraw) {
  const form = h("form", { class: "row", id: "payer-form" },
    field("Name", { name: "name", required: true, maxlength: 120, autocomplete: "off" }),
    field("Electronic payer id", { name: "electronic_id", required: true, maxlength: 80, autocomplete: "off", placeholder: "as the clearinghouse lists it" }),
    h("button", { type: "submit" }, "Add payer"));
  onSubmit(form, office.messages, async (data) => {
    const payer = await api("/api/v1/insurance/payers", { method: "POST", json: data });
    form.reset();
    await redraw();
    return `${payer.name} added.`;
  });
  return form;
}

function coverageForm(account, payers, office, redraw) {
  const relationship = choice("The patient is the subscriber's", { name: "relationship" }, ["self", "spouse", "child", "other"].map((r) => [r, r === "self" ? "Self (the patient holds the policy)" : word("relationship", r)]));
  const subscriber = h("fieldset", { hidden: true }, h("legend", {}, "Subscriber (who holds the policy)"),
    h("div", { class: "row" }, field("Given name", { name: "subscriber_given_name", maxlength: 100 }), field("Family name", { name: "subscriber_family_name", maxlength: 100 }), field("Birth date", { name: "subscriber_birth_date", type: "date" })));
  relationship.querySelector("select").addEventListener("change", (event) => { subscriber.hidden = event.target.value === "self"; });
  const form = h("form", { class: "stack", id: "coverage-form" },
    h("div", { class: "row" },
      choice("Payer", { name: "payer_id", required: true }, payers.filter((p) => p.active).map((p) => [p.id, p.name])),
      field("Plan", { name: "plan_name", required: true, maxlength: 120, autocomplete: "off" })),
    h("div", { class: "row" },
      field("Member id", { name: "member_id", required: true, maxlength: 80, autocomplete: "off" }),
      field("Group number", { name: "group_number", maxlength: 50, autocomplete: "off" }),
      choice("Rank", { name: "priority" }, [["1", "Primary"], ["2", "Secondary"], ["3", "Tertiary"]])),
    h("div", { class: "row" },
      field("Covered from", { name: "period_start", type: "date", required: true, value: dateInputValue(0) }),
      field("Covered until (optional)", { name: "period_end", type: "date" })),
    relationship, subscriber,
    h("div", {}, h("button", { type: "submit" }, "Add coverage")));
  onSubmit(form, office.messages, async (data) => {
    const body = { ...data, priority: Number(data.priority ?? 1) };
    const added = await api(`/api/v1/patients/${account.patient_id}/coverages`, { method: "POST", json: body });
    await redraw();
    return `Coverage ${added.plan_name} (member ${added.member_id}) added for ${account.name}.`;
  });
  return form;
}

async function showCoverages(region, account, payers, office) {
  const redraw = () => showCoverages(region, account, payers, office);
  const coverages = await api(`/api/v1/patients/${account.patient_id}/coverages`);
  const payerName = new Map(payers.map((p) => [p.id, p.name]));
  const end = async (coverage) => {
    if (!(await confirmAction({ title: `End ${coverage.plan_name}?`, message: "Claims can no longer be made against this coverage. Claims already made stay as they are.", confirmLabel: "End coverage", danger: true }))) return;
    clearMessages(office.messages);
    try {
      await api(`/api/v1/insurance/coverages/${coverage.id}/cancel`, { method: "POST" });
      await redraw();
      showNotice(office.messages, `${coverage.plan_name} ended.`);
    } catch (error) {
      showError(office.messages, error);
    }
  };
  replace(region, card("coverages-title", `Coverages of ${account.name} (${account.mrn})`,
    coverages.length
      ? h("ul", { class: "list", id: "coverage-list" }, coverages.map((c) => h("li", { dataset: { coverageId: c.id } },
          h("div", {}, h("strong", {}, `${payerName.get(c.payer_id) ?? "Payer"}: ${c.plan_name}`), " ", h("span", { class: `status status-${c.status}` }, word("coverage", c.status)),
            h("div", { class: "meta" }, [`member ${c.member_id}`, c.group_number ? `group ${c.group_number}` : null, ["", "primary", "secondary", "tertiary"][c.priority],
              `from ${formatDate(c.period_start)}${c.period_end ? ` to ${formatDate(c.period_end)}` : ""}`, c.relationship === "self" ? null : `through ${c.subscriber_given_name} ${c.subscriber_family_name} (${word("relationship", c.relationship).toLowerCase()})`].filter(Boolean).join(" · "))),
          c.status === "active" ? h("button", { type: "button", class: "button-quiet", onclick: () => end(c) }, "End…") : null)))
      : emptyState("No coverage: the patient pays for themselves."),
    h("details", { class: "inline-form", open: !coverages.length }, h("summary", {}, "Add a coverage"), coverageForm(account, payers, office, redraw))));
}

export async function render(panel, office) {
  const redraw = () => render(panel, office);
  const payers = await api("/api/v1/insurance/payers");
  const coverages = h("div", { id: "coverages" });
  replace(
    panel,
    card("payers-title", "Payers",
      payers.length
        ? h("ul", { class: "list", id: "payer-list" }, payers.map((p) => h("li", {}, h("div", {}, h("strong", {}, p.name), h("div", { class: "meta" }, `Electronic payer id ${p.electronic_id}${p.active ? "" : " · inactive"}`)))))
        : emptyState("No payers yet."),
      h("details", { class: "inline-form" }, h("summary", {}, "Add a payer"), payerForm(office, redraw))),
    card("patient-coverage-title", "A patient's coverages",
      patientPicker({ messages: office.messages, onChoose: (account) => showCoverages(coverages, account, payers, office).catch((error) => showError(office.messages, error)) })),
    coverages,
  );
}
