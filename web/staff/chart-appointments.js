// The patient's appointments: upcoming ones with reschedule and cancel (after a confirmation with a
// reason), the recent past, and booking a free slot of any practitioner for the patient.

import { clearMessages, emptyState, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { confirmAction } from "../shared/confirm.js";
import { h, replace } from "../shared/dom.js";
import { card, choice, field, onSubmit } from "../shared/forms.js";
import { dateInputValue, formatDateTime, localDayBoundary, zoneNote } from "../shared/time.js";
import { word } from "../shared/words.js";

const PAST_DAYS = 180;
const SLOTS_SHOWN = 60;

function describe(appointment, chart, types) {
  const type = types.get(appointment.appointment_type);
  const who = chart.practitioners.get(appointment.practitioner_id)?.name ?? "";
  return [type?.name ?? word("mode", appointment.mode), who, appointment.reason].filter(Boolean).join(" · ");
}

function appointmentItem(appointment, ctx) {
  const upcoming = ["booked", "checked_in"].includes(appointment.status) && Date.parse(appointment.end_at) > Date.now();
  return h(
    "li",
    { dataset: { appointmentId: appointment.id } },
    h("div", {},
      h("strong", {}, formatDateTime(appointment.start_at)), " ",
      h("span", { class: `status status-${appointment.status}` }, word("appointment", appointment.status)),
      h("div", { class: "meta" }, describe(appointment, ctx.chart, ctx.types)),
      appointment.cancellation_reason ? h("div", { class: "meta" }, `Cancelled: ${appointment.cancellation_reason}`) : null),
    upcoming && appointment.status === "booked"
      ? h("div", { class: "actions" },
          h("button", { type: "button", class: "button-quiet", onclick: () => ctx.startReschedule(appointment) }, "Reschedule…"),
          h("button", { type: "button", class: "button-quiet", onclick: () => cancel(appointment, ctx) }, "Cancel…"))
      : null,
  );
}

async function cancel(appointment, ctx) {
  const answer = await confirmAction({
    title: "Cancel this appointment?",
    message: `${formatDateTime(appointment.start_at)}, ${describe(appointment, ctx.chart, ctx.types)}. The patient is told, and the time is freed.`,
    confirmLabel: "Cancel appointment",
    danger: true,
    reasonLabel: "Reason (kept on the record and told to the patient)",
  });
  if (!answer) return;
  clearMessages(ctx.chart.messages);
  try {
    await api(`/api/v1/appointments/${appointment.id}/cancel`, { method: "POST", json: { reason: answer.reason } });
    await ctx.redraw();
    showNotice(ctx.chart.messages, "Appointment cancelled.");
  } catch (error) {
    showError(ctx.chart.messages, error);
  }
}

function slotButtons(found, ctx, onPick) {
  if (!found.items.length) return emptyState("No free slot in these days: try other dates or another practitioner.");
  return h("div", {},
    h("p", { class: "footer-note" }, `${found.items.length}${found.truncated ? "+" : ""} free slots. ${zoneNote()}`),
    h("div", { class: "slots", role: "list" }, found.items.slice(0, SLOTS_SHOWN).map((slot) =>
      h("button", { type: "button", role: "listitem", onclick: () => onPick(slot) },
        formatDateTime(slot.start_at), h("div", { class: "meta" }, ctx.chart.practitioners.get(slot.practitioner_id)?.name ?? "")))));
}

function bookingForm(ctx) {
  const typeOptions = [...ctx.types.values()].filter((t) => t.active).map((t) => [t.code, `${t.name} (${t.duration_minutes} min, ${word("mode", t.mode).toLowerCase()})`]);
  const practitionerOptions = [["", "Any practitioner"], ...[...ctx.chart.practitioners.values()].filter((p) => p.active).map((p) => [p.id, p.name])];
  const results = h("div", { id: "slot-results", "aria-live": "polite" });
  const form = h("form", { class: "stack", id: "booking-form" },
    h("div", { class: "row" }, choice("Appointment type", { name: "appointment_type", required: true }, typeOptions), choice("Practitioner", { name: "practitioner_id" }, practitionerOptions)),
    h("div", { class: "row" }, field("From", { name: "from", type: "date", required: true, value: dateInputValue(0) }), field("To", { name: "to", type: "date", required: true, value: dateInputValue(14) })),
    field("Reason for the visit", { name: "reason", maxlength: 500, autocomplete: "off" }),
    h("div", {}, h("button", { type: "submit" }, "Find free slots")));
  if (ctx.chart.practitioner) form.elements.practitioner_id.value = ctx.chart.practitioner.id;
  ctx.bookingForm = form;
  onSubmit(form, ctx.chart.messages, async (data) => {
    const params = new URLSearchParams({ appointment_type: data.appointment_type, start: localDayBoundary(data.from), end: localDayBoundary(data.to, true), limit: "200" });
    if (data.practitioner_id) params.set("practitioner_id", data.practitioner_id);
    const found = await api(`/api/v1/slots?${params}`);
    const pick = ctx.rescheduling ? (slot) => reschedule(ctx, slot) : (slot) => book(ctx, slot, data);
    replace(results, ctx.rescheduling ? h("p", { class: "alert alert-ok" }, `Choose the new time for ${formatDateTime(ctx.rescheduling.start_at)}.`) : null, slotButtons(found, ctx, pick));
  });
  return h("div", {}, form, results);
}

async function book(ctx, slot, data) {
  clearMessages(ctx.chart.messages);
  try {
    const body = { patient_id: ctx.chart.patient.id, practitioner_id: slot.practitioner_id, appointment_type: data.appointment_type, start_at: slot.start_at };
    if (data.reason) body.reason = data.reason;
    const booked = await api("/api/v1/appointments", { method: "POST", json: body });
    await ctx.redraw();
    showNotice(ctx.chart.messages, `Booked: ${formatDateTime(booked.start_at)} with ${ctx.chart.practitioners.get(booked.practitioner_id)?.name ?? "the practitioner"}.`);
  } catch (error) {
    showError(ctx.chart.messages, error);
  }
}

async function reschedule(ctx, slot) {
  clearMessages(ctx.chart.messages);
  try {
    const moved = await api(`/api/v1/appointments/${ctx.rescheduling.id}/reschedule`, { method: "POST", json: { start_at: slot.start_at, practitioner_id: slot.practitioner_id } });
    ctx.rescheduling = null;
    await ctx.redraw();
    showNotice(ctx.chart.messages, `Moved to ${formatDateTime(moved.start_at)}.`);
  } catch (error) {
    showError(ctx.chart.messages, error);
  }
}

export async function render(panel, chart) {
  const since = new Date(Date.now() - PAST_DAYS * 86_400_000).toISOString();
  const [page, typeList] = await Promise.all([
    api(`/api/v1/appointments?patient_id=${chart.patient.id}&start_from=${encodeURIComponent(since)}&limit=100`),
    api("/api/v1/appointment-types"),
  ]);
  const ctx = { chart, types: new Map(typeList.map((t) => [t.code, t])), rescheduling: null, redraw: () => render(panel, chart) };
  const now = Date.now();
  const upcoming = page.items.filter((a) => Date.parse(a.end_at) > now && !["cancelled", "no_show", "completed"].includes(a.status));
  const past = page.items.filter((a) => !upcoming.includes(a)).reverse();
  const booking = bookingForm(ctx);
  ctx.startReschedule = (appointment) => {
    ctx.rescheduling = appointment;
    const form = ctx.bookingForm;
    form.elements.appointment_type.value = appointment.appointment_type;
    form.elements.practitioner_id.value = appointment.practitioner_id;
    form.querySelector("button[type=submit]").textContent = "Find free slots to move it to";
    form.requestSubmit();
    form.scrollIntoView({ block: "start" });
  };
  replace(
    panel,
    h("div", { class: "chart-columns" },
      card("upcoming-title", "Upcoming", upcoming.length ? h("ul", { class: "list", id: "upcoming-appointments" }, upcoming.map((a) => appointmentItem(a, ctx))) : emptyState("No upcoming appointment.")),
      card("book-title", "Book an appointment", booking)),
    card("past-title", `Past ${PAST_DAYS} days`, past.length ? h("ul", { class: "list", id: "past-appointments" }, past.map((a) => appointmentItem(a, ctx))) : emptyState("No appointments in this period.")),
  );
}
