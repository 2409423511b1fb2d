// The staff home: the day list of appointments, patient search, and the other staff pages by role.

import { showError } from "../shared/alerts.js";
import { requireUser } from "../shared/auth.js";
import { byId, h, replace } from "../shared/dom.js";
import { renderLayout } from "../shared/layout.js";
import { bindDayList } from "./day-list.js";
import { bindPatientSearch } from "./patient-search.js";
import { loadPractitioners } from "./practitioners.js";

const STAFF_PAGES = [
  { href: "/consult/clinician/", title: "Video consultations", description: "Today's video calls: admit, consult, notes.", roles: ["clinician"] },
  {
    href: "/staff/messages/",
    title: "Patient messages",
    description: "Each care team's inbox: patients' messages waiting for a reply, answers, attachments.",
    roles: ["admin", "clinician", "nurse"],
  },
  {
    href: "/staff/dashboard/",
    title: "Ward dashboard",
    description: "Live vital signs, NEWS2 and alarms of every bed of a ward.",
    roles: ["admin", "clinician", "nurse"],
  },
  { href: "/billing/", title: "Billing office", description: "Invoices, payments, refunds and insurance claims.", roles: ["admin"] },
  { href: "/admin/", title: "Administration", description: "Staff accounts, wards and beds, schedules, devices, audit log, system, analytics.", roles: ["admin"] },
  {
    href: "/api/v1/docs",
    title: "REST API reference",
    description: "Every endpoint, generated from the server (OpenAPI).",
    roles: ["admin", "clinician", "nurse"],
  },
];

async function main() {
  const user = await requireUser(["admin", "clinician", "nurse"]);
  if (!user) return;
  renderLayout(user);
  byId("greeting").textContent = `Welcome, ${user.full_name}`;
  replace(
    byId("staff-pages"),
    STAFF_PAGES.filter((page) => page.roles.includes(user.role)).map((page) =>
      h("li", {}, h("div", {}, h("a", { href: page.href }, page.title), h("div", { class: "meta" }, page.description))),
    ),
  );
  bindPatientSearch(byId("patient-search"));
  const practitioners = await loadPractitioners();
  await bindDayList({ user, practitioners });
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(byId("messages"), error));
