// The day list: every appointment of a day (one practitioner's or everyone's), in person and by video,
// with the visit's next step: check in, start (which opens the encounter), complete, did not attend.
// The day and whose list are kept in the address, so a reload or a bookmark keeps them.

import { clearMessages, emptyState, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { confirmAction } from "../shared/confirm.js";
import { byId, h, replace } from "../shared/dom.js";
import { ageInYears, dateInputValue, formatLongDate, formatTime, localDayBoundary, zoneNote } from "../shared/time.js";
import { word } from "../shared/words.js";
import { practitionerOfUser } from "./practitioners.js";

const STEP_NOTICES = {
  "check-in": (e) => `${e.patient.name} has arrived.`,
  start: (e) => `${e.patient.name}'s visit has started.`,
  complete: (e) => `${e.patient.name}'s visit is completed.`,
  "no-show": (e) => `${e.patient.name} is marked as not having attended.`,
};

function chartLink(entry, text = entry.patient.name, section = "") {
  return h("a", { href: `/staff/patient/?id=${encodeURIComponent(entry.patient.id)}${section}` }, text);
}

function patientCell(entry) {
  const age = ageInYears(entry.patient.birth_date);
  const about = [entry.patient.mrn, age === null ? null : `${age} years`, word("gender", entry.patient.gender)];
  return h("div", { class: "day-patient" }, h("strong", {}, chartLink(entry)), h("div", { class: "meta" }, about.filter(Boolean).join(" · ")));
}

function visitCell(entry, showPractitioner) {
  const a = entry.appointment;
  return h(
    "div",
    { class: "day-visit" },
    h("span", { class: `mode mode-${a.mode}` }, a.mode === "video" ? "▶ Video" : "● In person"),
    a.reason ? h("div", {}, a.reason) : null,
    showPractitioner ? h("div", { class: "meta" }, entry.practitioner_name) : null,
  );
}

export async function bindDayList({ user, practitioners }) {
  const form = byId("day-form");
  const mine = practitionerOfUser(practitioners, user.id);
  const address = new URL(window.location.href);
  replace(
    form.elements.who,
    mine ? h("option", { value: mine.id }, `My appointments (${mine.name})`) : null,
    h("option", { value: "all" }, "All practitioners"),
    [...practitioners.values()]
      .filter((p) => p.active && p.id !== mine?.id)
      .sort((a, b) => a.family_name.localeCompare(b.family_name))
      .map((p) => h("option", { value: p.id }, p.name)),
  );
  form.elements.date.value = address.searchParams.get("date") || dateInputValue(0);
  // Clinicians start from their own clinic; nurses and administrators work across everyone's.
  form.elements.who.value = address.searchParams.get("who") || (mine && user.role === "clinician" ? mine.id : "all");
  if (!form.elements.who.value) form.elements.who.value = "all";
  const state = { user, form, canStart: user.role === "clinician" };

  // A day or list chosen by hand goes into the address; the plain home page keeps a plain address.
  const reload = () => {
    remember(form);
    return show(state).catch((error) => showError(byId("day-messages"), error));
  };
  form.addEventListener("change", reload);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    reload();
  });
  form.querySelector(".day-steps").addEventListener("click", (event) => {
    const step = event.target.closest("[data-step]");
    if (!step) return;
    const delta = Number(step.dataset.step);
    form.elements.date.value = delta === 0 ? dateInputValue(0) : shiftDay(form.elements.date.value, delta);
    reload();
  });
  await show(state);
}

function shiftDay(value, delta) {
  const [year, month, day] = value.split("-").map(Number);
  const moved = new Date(year, month - 1, day + delta);
  const pad = (n) => String(n).padStart(2, "0");
  return `${moved.getFullYear()}-${pad(moved.getMonth() + 1)}-${pad(moved.getDate())}`;
}

function remember(form) {
  const address = new URL(window.location.href);
  address.searchParams.set("date", form.elements.date.value || dateInputValue(0));
  address.searchParams.set("who", form.elements.who.value);
  window.history.replaceState(null, "", address);
}

async function show(state) {
  const { form } = state;
  const day = form.elements.date.value || dateInputValue(0);
  const who = form.elements.who.value;
  const params = new URLSearchParams({ start: localDayBoundary(day), end: localDayBoundary(day, true) });
  if (who !== "all") params.set("practitioner_id", who);
  const region = byId("day-list");
  region.setAttribute("aria-busy", "true");
  replace(region, h("p", { class: "loading", role: "status" }, "Loading the day list…"));
  try {
    const agenda = await api(`/api/v1/appointments/day-list?${params}`);
    const active = agenda.items.filter((e) => !["cancelled", "no_show"].includes(e.appointment.status));
    byId("day-summary").textContent =
      `${formatLongDate(day)}: ${active.length} appointment${active.length === 1 ? "" : "s"}` +
      `${agenda.items.length > active.length ? ` (and ${agenda.items.length - active.length} cancelled or missed)` : ""}. ${zoneNote()}`;
    replace(
      region,
      agenda.items.length
        ? h("ol", { class: "day-list", "aria-label": `Appointments on ${formatLongDate(day)}` }, agenda.items.map((e) => row(state, e, who === "all")))
        : emptyState("No appointments on this day."),
      agenda.truncated ? h("p", { class: "footer-note" }, "Only the first 500 appointments are shown.") : null,
    );
  } finally {
    region.removeAttribute("aria-busy");
  }
}

function row(state, entry, showPractitioner) {
  const a = entry.appointment;
  return h(
    "li",
    { class: `day-row status-row-${a.status}`, dataset: { appointmentId: a.id } },
    h("div", { class: "day-time" }, h("strong", {}, formatTime(a.start_at)), h("span", { class: "meta" }, `to ${formatTime(a.end_at)}`)),
    patientCell(entry),
    visitCell(entry, showPractitioner),
    h("div", { class: "day-status" }, h("span", { class: `status status-${a.status}` }, word("appointment", a.status))),
    h("div", { class: "day-actions actions" }, actions(state, entry)),
  );
}

function actions(state, entry) {
  const a = entry.appointment;
  const buttons = [];
  const step = (label, action, { quiet = false, confirm = null } = {}) =>
    h("button", { type: "button", class: quiet ? "button-quiet" : null, onclick: () => visitStep(state, entry, action, confirm) }, label);
  const started = Date.parse(a.start_at) <= Date.now();
  if (a.status === "booked") {
    buttons.push(step("Check in", "check-in"));
    if (started) {
      buttons.push(step("Did not attend…", "no-show", {
        quiet: true,
        confirm: { title: `${entry.patient.name} did not attend?`, message: "The appointment will be closed as missed and its time freed. This cannot be undone.", confirmLabel: "Mark as did not attend", danger: true },
      }));
    }
  }
  const open = ["booked", "checked_in", "in_progress"].includes(a.status);
  if (open && entry.encounter) {
    buttons.push(h("a", { class: "button", href: `/staff/patient/?id=${entry.patient.id}#encounters` }, "Open encounter"));
  } else if (open && a.mode === "in_person" && state.canStart && a.status !== "in_progress") {
    buttons.push(h("button", { type: "button", onclick: () => startEncounter(entry) }, "Start visit"));
  }
  if (open && a.mode === "video" && state.canStart) {
    buttons.push(h("a", { class: "button button-quiet", href: "/consult/clinician/" }, "Video room"));
  }
  if (["checked_in", "in_progress"].includes(a.status) && !entry.encounter) {
    buttons.push(step("Complete", "complete", { quiet: true }));
  }
  buttons.push(chartLink(entry, "Chart"));
  return buttons;
}

async function visitStep(state, entry, action, confirm) {
  const messages = byId("day-messages");
  clearMessages(messages);
  if (confirm && !(await confirmAction(confirm))) return;
  try {
    await api(`/api/v1/appointments/${entry.appointment.id}/${action}`, { method: "POST" });
    await show(state);
    showNotice(messages, STEP_NOTICES[action](entry));
  } catch (error) {
    showError(messages, error);
  }
}

async function startEncounter(entry) {
  const messages = byId("day-messages");
  clearMessages(messages);
  try {
    // Opening the encounter checks the patient in and starts the visit in one step.
    await api("/api/v1/encounters", { method: "POST", json: { appointment_id: entry.appointment.id } });
    window.location.assign(`/staff/patient/?id=${encodeURIComponent(entry.patient.id)}#encounters`);
  } catch (error) {
    showError(messages, error);
  }
}
