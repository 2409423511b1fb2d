// Practitioners' schedules: weekly working hours (local times in a named zone) and exceptions
// (leave, holidays) that block slots.

import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { browserTimeZone, dateInputValue, formatDate, formatDateTime } from "../shared/time.js";
import { act, card, choice, field, onSubmit, table } from "./ui.js";

const WEEKDAYS = [[1, "Monday"], [2, "Tuesday"], [3, "Wednesday"], [4, "Thursday"], [5, "Friday"], [6, "Saturday"], [7, "Sunday"]];
const REASONS = [["leave", "Leave"], ["holiday", "Holiday"], ["other", "Other"]];

function instant(localValue) {
  // <input type="datetime-local"> has no zone: it is the administrator's local time.
  return new Date(localValue).toISOString();
}

async function allPractitioners() {
  // The API pages by 100; a hospital has a few hundred practitioners at most.
  const found = [];
  for (let offset = 0; ; offset += 100) {
    const page = await api(`/api/v1/practitioners?include_inactive=true&limit=100&offset=${offset}`);
    found.push(...page);
    if (page.length < 100) return found;
  }
}

export async function render(container, { messages }) {
  const practitioners = await allPractitioners();
  const picker = h("select", { id: "practitioner" }, h("option", { value: "" }, "Choose a practitioner"),
    practitioners.map((p) => h("option", { value: p.id }, `${p.family_name}, ${p.given_name}${p.specialties.length ? ` (${p.specialties.join(", ")})` : ""}`)));
  const detail = h("div", { id: "schedule" });
  replace(container, card("practitioner-title", "Whose schedule", h("label", {}, "Practitioner", picker)), detail);
  picker.addEventListener("change", () => act(messages, () => show(picker.value)));

  const show = async (id) => {
    if (!id) { replace(detail); return; }
    const [hours, exceptions] = await Promise.all([
      api(`/api/v1/practitioners/${id}/working-hours`),
      api(`/api/v1/practitioners/${id}/schedule-exceptions`),
    ]);
    const base = `/api/v1/practitioners/${id}`;
    const remove = (path, what) => h("button", { type: "button", class: "button-quiet", onclick: () => act(messages, async () => {
      await api(path, { method: "DELETE" });
      await show(id);
      return `${what} removed.`;
    }) }, "Remove");
    const hoursForm = h("form", { class: "row", id: "hours-form" },
      choice("Weekday", { name: "weekday" }, WEEKDAYS),
      field("Starts", { name: "start_time", type: "time", required: true }),
      field("Ends", { name: "end_time", type: "time", required: true }),
      field("Time zone", { name: "time_zone", required: true, value: browserTimeZone() }),
      field("Valid from", { name: "valid_from", type: "date", required: true, value: dateInputValue(0) }),
      field("Valid to (optional)", { name: "valid_to", type: "date" }),
      h("button", { type: "submit" }, "Add hours"));
    onSubmit(hoursForm, messages, async (data) => {
      await api(`${base}/working-hours`, { method: "POST", json: { ...data, weekday: Number(data.weekday) } });
      await show(id);
      return "Working hours added.";
    });
    const exceptionForm = h("form", { class: "row", id: "exception-form" },
      field("From", { name: "start_at", type: "datetime-local", required: true }),
      field("Until", { name: "end_at", type: "datetime-local", required: true }),
      choice("Reason", { name: "reason" }, REASONS),
      field("Note (optional)", { name: "note", maxlength: 500 }),
      h("button", { type: "submit" }, "Add exception"));
    onSubmit(exceptionForm, messages, async (data) => {
      await api(`${base}/schedule-exceptions`, { method: "POST", json: { ...data, start_at: instant(data.start_at), end_at: instant(data.end_at) } });
      await show(id);
      return "Exception added: no slots are offered in that time.";
    });
    const dayName = (n) => WEEKDAYS.find(([d]) => d === n)?.[1] ?? String(n);
    replace(detail,
      card("hours-title", "Weekly working hours", hoursForm, table({
        id: "hours-table", caption: "Working hours", columns: ["Day", "Hours", "Zone", "Valid", ""], empty: "No working hours: no slots are offered.",
        rows: hours.map((w) => ({ cells: [dayName(w.weekday), `${w.start_time.slice(0, 5)}–${w.end_time.slice(0, 5)}`, w.time_zone,
          `from ${formatDate(w.valid_from)}${w.valid_to ? ` to ${formatDate(w.valid_to)}` : ""}`, remove(`${base}/working-hours/${w.id}`, "Working hours")] })),
      })),
      card("exceptions-title", "Exceptions", exceptionForm, table({
        id: "exceptions-table", caption: "Exceptions", columns: ["From", "Until", "Reason", "Note", ""], empty: "No exceptions.",
        rows: exceptions.map((e) => ({ cells: [formatDateTime(e.start_at), formatDateTime(e.end_at), e.reason, e.note ?? "", remove(`${base}/schedule-exceptions/${e.id}`, "Exception")] })),
      })),
    );
  };
}
