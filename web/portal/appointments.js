// Upcoming and past appointments, and cancelling one with a reason.

import { emptyState, showError, showNotice, clearMessages } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { busy, byId, h, replace } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";
import { practitionerDirectory, practitionerName } from "./directory.js";

const ACTIVE = new Set(["booked", "checked_in", "in_progress"]);
const STATUS_TEXT = {
  booked: "Booked",
  checked_in: "Checked in",
  in_progress: "In progress",
  completed: "Completed",
  cancelled: "Cancelled",
  no_show: "Missed",
};
let cancelling = null;

async function allAppointments() {
  const items = [];
  let cursor = null;
  // A patient has a handful of appointments; the page size keeps this to one or two calls.
  do {
    const query = new URLSearchParams({ limit: "100" });
    if (cursor) query.set("cursor", cursor);
    const page = await api(`/api/v1/appointments?${query}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

function row(appointment, directory, onCancel) {
  const who = practitionerName(directory, appointment.practitioner_id);
  const status = h("span", { class: `status status-${appointment.status}` }, STATUS_TEXT[appointment.status] ?? appointment.status);
  const details = h(
    "div",
    {},
    h("strong", {}, formatDateTime(appointment.start_at)),
    h("div", { class: "meta" }, `${who} · ${appointment.mode === "video" ? "Video" : "In person"}`, " · ", status),
    appointment.cancellation_reason ? h("div", { class: "meta" }, `Reason: ${appointment.cancellation_reason}`) : null,
  );
  const actions = onCancel
    ? h("button", { type: "button", class: "button-quiet", onclick: () => onCancel(appointment, who) }, "Cancel…")
    : null;
  return h("li", { dataset: { appointmentId: appointment.id } }, details, actions);
}

/** Loads and shows the patient's appointments. */
export async function showAppointments() {
  const [items, directory] = await Promise.all([allAppointments(), practitionerDirectory()]);
  const now = Date.now();
  const upcoming = items
    .filter((a) => ACTIVE.has(a.status) && new Date(a.end_at).getTime() > now)
    .sort((a, b) => a.start_at.localeCompare(b.start_at));
  const past = items
    .filter((a) => !upcoming.includes(a))
    .sort((a, b) => b.start_at.localeCompare(a.start_at));
  replace(
    byId("upcoming"),
    upcoming.length ? upcoming.map((a) => row(a, directory, a.status === "booked" ? openCancel : null)) : emptyState("No upcoming appointments."),
  );
  replace(byId("past"), past.length ? past.map((a) => row(a, directory, null)) : emptyState("No past appointments."));
}

function openCancel(appointment, who) {
  cancelling = appointment;
  const form = byId("cancel-form");
  form.reset();
  clearMessages(byId("cancel-messages"));
  byId("cancel-what").textContent = `${formatDateTime(appointment.start_at)} with ${who}`;
  byId("cancel-dialog").showModal();
}

/** Wires the cancel dialog; `onDone` runs after a successful cancellation. */
export function bindCancelDialog(onDone) {
  const dialog = byId("cancel-dialog");
  const form = byId("cancel-form");
  byId("cancel-close").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = String(new FormData(form).get("reason") ?? "").trim();
    if (!reason) {
      showError(byId("cancel-messages"), new Error("Please give a reason for cancelling."));
      return;
    }
    try {
      await busy(form, () => api(`/api/v1/appointments/${cancelling.id}/cancel`, { method: "POST", json: { reason } }));
      dialog.close();
      showNotice(byId("messages"), "Your appointment was cancelled.");
      await onDone();
    } catch (error) {
      // The server's own words, e.g. that the cancellation window has closed.
      showError(byId("cancel-messages"), error);
    }
  });
}
