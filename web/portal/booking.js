// Finding a free slot (by appointment type, specialty or practitioner, and dates) and booking it.

import { clearMessages, emptyState, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { busy, byId, h, replace } from "../shared/dom.js";
import { dateInputValue, formatDateTime, localDayBoundary } from "../shared/time.js";
import { appointmentTypes, practitionerDirectory, practitionerName } from "./directory.js";

let chosen = null;
let lastSearch = null;
let prepared = false;

function option(value, label) {
  return h("option", { value }, label);
}

function fillPractitioners(form, directory) {
  const specialty = form.elements.specialty.value;
  const current = form.elements.practitioner_id.value;
  const matching = [...directory.values()].filter((p) => !specialty || p.specialties.includes(specialty));
  replace(
    form.elements.practitioner_id,
    option("", "Any practitioner"),
    matching.map((p) => option(p.id, practitionerName(directory, p.id))),
  );
  if (matching.some((p) => p.id === current)) form.elements.practitioner_id.value = current;
}

/** Fills the search form's choices; call once when the section is first shown. */
export async function prepareBooking() {
  const form = byId("slot-form");
  if (prepared) return;
  const [types, directory] = await Promise.all([appointmentTypes(), practitionerDirectory()]);
  replace(form.elements.appointment_type, types.map((t) => option(t.code, `${t.name} (${t.duration_minutes} min, ${t.mode === "video" ? "video" : "in person"})`)));
  const specialties = [...new Set([...directory.values()].flatMap((p) => p.specialties))].sort();
  replace(form.elements.specialty, option("", "Any specialty"), specialties.map((s) => option(s, s.replaceAll("-", " "))));
  fillPractitioners(form, directory);
  if (!prepared) {
    form.elements.specialty.addEventListener("change", () => fillPractitioners(form, directory));
    prepared = true;
  }
  form.elements.from.value ||= dateInputValue(0);
  form.elements.to.value ||= dateInputValue(7);
}

async function searchSlots(data) {
  const query = new URLSearchParams({
    appointment_type: String(data.get("appointment_type")),
    start: localDayBoundary(String(data.get("from"))),
    end: localDayBoundary(String(data.get("to")), true),
  });
  if (data.get("practitioner_id")) query.set("practitioner_id", String(data.get("practitioner_id")));
  else if (data.get("specialty")) query.set("specialty", String(data.get("specialty")));
  lastSearch = query;
  await showSlots();
}

async function showSlots() {
  const [found, directory] = await Promise.all([api(`/api/v1/slots?${lastSearch}`), practitionerDirectory()]);
  const region = byId("slots");
  if (!found.items.length) {
    replace(region, emptyState("No free slots in these dates. Try other dates or another practitioner."));
    return;
  }
  replace(
    region,
    found.items.map((slot) =>
      h(
        "button",
        { type: "button", class: "slot", onclick: () => openBooking(slot, found.appointment_type, directory) },
        h("strong", {}, formatDateTime(slot.start_at)),
        h("br"),
        practitionerName(directory, slot.practitioner_id),
      ),
    ),
  );
}

function openBooking(slot, appointmentType, directory) {
  chosen = { slot, appointmentType };
  const form = byId("book-form");
  form.reset();
  clearMessages(byId("book-messages"));
  byId("book-what").textContent = `${formatDateTime(slot.start_at)} with ${practitionerName(directory, slot.practitioner_id)}`;
  byId("book-dialog").showModal();
}

/** Wires the search form and the booking dialog; `onBooked` runs after a booking succeeds. */
export function bindBooking(onBooked) {
  const form = byId("slot-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(byId("slot-messages"));
    // Read before `busy` disables the controls: disabled fields are left out of FormData.
    const data = new FormData(form);
    try {
      await busy(form, () => searchSlots(data));
    } catch (error) {
      showError(byId("slot-messages"), error);
    }
  });
  const dialog = byId("book-dialog");
  const bookForm = byId("book-form");
  byId("book-close").addEventListener("click", () => dialog.close());
  bookForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = String(new FormData(bookForm).get("reason") ?? "").trim();
    const body = {
      practitioner_id: chosen.slot.practitioner_id,
      appointment_type: chosen.appointmentType,
      start_at: chosen.slot.start_at,
      ...(reason ? { reason } : {}),
    };
    try {
      const booked = await busy(bookForm, () => api("/api/v1/appointments", { method: "POST", json: body }));
      dialog.close();
      showNotice(byId("slot-messages"), `Booked for ${formatDateTime(booked.start_at)}.`);
      await Promise.all([onBooked(), showSlots()]);
    } catch (error) {
      // e.g. the slot was taken a moment ago: the server says so, and the list is refreshed.
      showError(byId("book-messages"), error);
      showSlots().catch(() => {});
    }
  });
}
