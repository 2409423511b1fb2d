// The patient chart (/staff/patient/?id=...): the header everyone needs at a glance (who, allergies,
// where, open alarms) and one tab per section of the record, each loaded when first opened. From the
// ward dashboard (?ward=...) it opens on the vital signs.

import { showError } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { requireUser } from "../shared/auth.js";
import { byId, h, replace } from "../shared/dom.js";
import { bindTabs, renderLayout } from "../shared/layout.js";
import { renderHeader } from "./chart-header.js";
import { CHART_SECTIONS } from "./chart-sections.js";
import { loadPractitioners, practitionerOfUser } from "./practitioners.js";

const address = new URL(window.location.href).searchParams;

function buildTabs(chart) {
  const nav = byId("chart-tabs");
  replace(
    nav,
    CHART_SECTIONS.map((s) =>
      h("button", { type: "button", role: "tab", id: `tab-${s.name}`, "aria-controls": `panel-${s.name}`, dataset: { tab: s.name } }, s.title),
    ),
  );
  replace(
    byId("chart-panels"),
    CHART_SECTIONS.map((s) => h("section", { id: `panel-${s.name}`, role: "tabpanel", "aria-labelledby": `tab-${s.name}`, class: "chart-panel", hidden: true })),
  );
  const rendered = new Set();
  const render = async (name) => {
    const section = CHART_SECTIONS.find((s) => s.name === name);
    const panel = byId(`panel-${name}`);
    rendered.add(name);
    replace(panel, h("p", { class: "loading", role: "status" }, `Loading ${section.title.toLowerCase()}…`));
    try {
      await (await section.load()).render(panel, chart);
    } catch (error) {
      replace(panel);
      showError(panel, error);
    }
  };
  const show = bindTabs(nav, (name) => {
    window.history.replaceState(null, "", `${window.location.pathname}${window.location.search}#${name}`);
    if (!rendered.has(name)) render(name);
  });
  chart.show = show;
  // Re-draws a section now if it has been drawn (its data changed), or leaves it for its first showing.
  chart.refresh = (name) => (rendered.has(name) ? render(name) : Promise.resolve());
  return show;
}

async function main() {
  const user = await requireUser(["admin", "clinician", "nurse"]);
  if (!user) return;
  renderLayout(user);
  const ward = address.get("ward");
  if (ward) {
    const back = byId("back-link");
    back.href = `/staff/dashboard/?ward=${encodeURIComponent(ward)}`;
    back.textContent = "← Ward dashboard";
  }
  const patientId = address.get("id");
  if (!patientId) {
    throw Object.assign(new Error("No patient was chosen: find one with the search on the staff home."), { title: "No patient" });
  }
  const [patient, practitioners] = await Promise.all([api(`/api/v1/patients/${encodeURIComponent(patientId)}`), loadPractitioners()]);
  document.title = `${patient.given_name} ${patient.family_name} · Patient chart · Ownat`;
  const chart = {
    patient,
    user,
    practitioners,
    practitioner: practitionerOfUser(practitioners, user.id),
    isClinician: user.role === "clinician",
    messages: byId("messages"),
    allergies: [],
    ward,
  };
  chart.refreshHeader = () => renderHeader(chart);
  const show = buildTabs(chart);
  await renderHeader(chart);
  const wanted = window.location.hash.slice(1);
  const first = CHART_SECTIONS.some((s) => s.name === wanted) ? wanted : ward ? "vitals" : "overview";
  show(first);
  window.addEventListener("hashchange", () => {
    const name = window.location.hash.slice(1);
    if (CHART_SECTIONS.some((s) => s.name === name)) show(name);
  });
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(byId("messages"), error));
