// Finding a free slot (by appointment type, specialty or practitioner, and dates) and booking it:
// the times grouped by day and practitioner, paged, and saying when the search was cut.

import { clearMessages, emptyState, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { busy, byId, h, replace } from "../shared/dom.js";
import { dateInputValue, dayInWords, formatDateTime, formatTime, localDayBoundary, localDayKey } from "../shared/time.js";
import { appointmentTypes, practitionerDirectory, practitionerName } from "./directory.js";

// Slots come a page at a time; each day and practitioner shows its first few times, "more times"
// shows the rest, and "Show later times" fetches the next page from where the last one stopped.
const PAGE_SIZE = 150;
const TIMES_SHOWN = 6;
const dayHeading = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });

let chosen = null;
let search = null; // { query, slots, nextStart, appointmentType }
const expanded = new Set(); // "day|practitioner" groups showing all their times
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
    end: localDayBoundary(String(data.get("to")), true),
    limit: String(PAGE_SIZE),
  });
  if (data.get("practitioner_id")) query.set("practitioner_id", String(data.get("practitioner_id")));
  else if (data.get("specialty")) query.set("specialty", String(data.get("specialty")));
  search = { query, start: localDayBoundary(String(data.get("from"))), slots: [], nextStart: null, appointmentType: null };
  expanded.clear();
  await loadPage(search.start);
}

async function loadPage(start) {
  const query = new URLSearchParams(search.query);
  query.set("start", start);
  const found = await api(`/api/v1/slots?${query}`);
  const seen = new Set(search.slots.map(slotKey));
  search.slots.push(...found.items.filter((slot) => !seen.has(slotKey(slot))));
  search.nextStart = found.next_start ?? null;
  search.appointmentType = found.appointment_type;
  await showSlots();
}

/** Searches again from the first page, as far as the person had read (after a booking). */
async function reloadSlots() {
  const readUpTo = search.slots.at(-1)?.start_at;
  search.slots = [];
  await loadPage(search.start);
  while (search.nextStart && readUpTo && search.nextStart <= readUpTo) await loadPage(search.nextStart);
}

function slotKey(slot) {
  return `${slot.practitioner_id}|${slot.start_at}`;
}

/** The slots by local day, then by practitioner, in time order. */
function grouped(slots) {
  const days = new Map();
  for (const slot of slots) {
    const day = localDayKey(slot.start_at);
    if (!days.has(day)) days.set(day, new Map());
    const practitioners = days.get(day);
    if (!practitioners.has(slot.practitioner_id)) practitioners.set(slot.practitioner_id, []);
    practitioners.get(slot.practitioner_id).push(slot);
  }
  return days;
}

async function showSlots() {
  const directory = await practitionerDirectory();
  const region = byId("slots");
  if (!search.slots.length) {
    replace(region, emptyState("No free slots in these dates. Try other dates or another practitioner."));
    return;
  }
  const days = [...grouped(search.slots).entries()];
  replace(
    region,
    days.map(([day, practitioners]) =>
      h(
        "section",
        { class: "slot-day", "aria-label": dayHeading.format(new Date(`${day}T12:00`)) },
        h("h3", {}, dayHeading.format(new Date(`${day}T12:00`))),
        [...practitioners.entries()].map(([id, slots]) => slotGroup(day, id, slots, directory)),
      ),
    ),
    summary(),
  );
}

function slotGroup(day, practitionerId, slots, directory) {
  const key = `${day}|${practitionerId}`;
  const name = practitionerName(directory, practitionerId);
  const shown = expanded.has(key) ? slots : slots.slice(0, TIMES_SHOWN);
  const hidden = slots.length - shown.length;
  return h(
    "div",
    { class: "slot-group" },
    h("h4", {}, name),
    h(
      "div",
      { class: "slot-times" },
      shown.map((slot) =>
        h(
          "button",
          {
            type: "button",
            class: "slot",
            "aria-label": `${formatTime(slot.start_at)} ${dayInWords(slot.start_at)} with ${name}`,
            onclick: () => openBooking(slot, search.appointmentType, directory),
          },
          formatTime(slot.start_at),
        ),
      ),
      hidden
        ? h(
            "button",
            {
              type: "button",
              class: "button-quiet more-times",
              onclick: () => {
                expanded.add(key);
                guardSlots(showSlots);
              },
            },
            `${hidden} more time${hidden === 1 ? "" : "s"}`,
          )
        : null,
    ),
  );
}

/** How many times are shown, and whether the search was cut (with the way to the rest). */
function summary() {
  const count = search.slots.length;
  const shown = `${count} free time${count === 1 ? "" : "s"} shown`;
  if (!search.nextStart) return h("p", { class: "meta slot-summary" }, `${shown}: every free time in these dates.`);
  return h(
    "div",
    { class: "slot-summary", role: "status" },
    h("p", {}, `${shown}. There are more after ${formatDateTime(search.slots.at(-1).start_at)}; the search stopped there.`),
    h("button", { type: "button", class: "button-quiet", onclick: () => guardSlots(() => loadPage(search.nextStart)) }, "Show later times"),
  );
}

function guardSlots(work) {
  work().catch((error) => showError(byId("slot-messages"), error));
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
      await Promise.all([onBooked(), reloadSlots()]);
    } catch (error) {
      // e.g. the slot was taken a moment ago: the server says so, and the list is refreshed.
      showError(byId("book-messages"), error);
      reloadSlots().catch(() => {});
    }
  });
}
