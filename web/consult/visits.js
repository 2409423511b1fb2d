// The list of video visits on the consult pages: when each one starts and its room opens, in words
// and in the viewer's time zone; "Join" only when joining makes sense; and the list kept current by
// itself (when a room opens or closes, every minute, and whenever the page asks after a call).

import { emptyState } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { durationInWords, formatTime } from "../shared/time.js";

const REFRESH_MS = 60_000;
// "Join" is offered this long before the room opens: the page then waits and opens it by itself.
export const JOIN_EARLY_MS = 60 * 60_000;
const STATE_WORDS = { finished: "Finished", closed: "Over", cancelled: "Cancelled", missed: "Missed" };

export class VisitList {
  /**
   * `range()` gives {start_from, start_to} (ISO) to list; `describe(visit)` the row's title and
   * details; `actionFor(visit, list)` a button or null.
   */
  constructor(element, { range, describe, actionFor }) {
    this.element = element;
    this.range = range;
    this.describe = describe;
    this.actionFor = actionFor;
    this.visits = [];
    this.offsetMs = 0; // the server's clock minus ours
  }

  /** Now by the server's clock, which decides when rooms open. */
  now() {
    return Date.now() + this.offsetMs;
  }

  /** Milliseconds until `iso` by the server's clock. */
  until(iso) {
    return Date.parse(iso) - this.now();
  }

  find(appointmentId) {
    return this.visits.find((visit) => visit.appointment_id === appointmentId) ?? null;
  }

  async load() {
    const data = await api(`/api/v1/consults/visits?${new URLSearchParams(this.range())}`);
    this.offsetMs = Date.parse(data.server_time) - Date.now();
    this.visits = data.visits;
    this.render();
    this.schedule();
    return this;
  }

  render() {
    replace(
      this.element,
      this.visits.length ? this.visits.map((visit) => this.row(visit)) : emptyState("No video appointments."),
    );
  }

  row(visit) {
    const { title, details } = this.describe(visit);
    const state = STATE_WORDS[visit.state];
    return h(
      "li",
      { dataset: { appointmentId: visit.appointment_id, state: visit.state } },
      h(
        "div",
        {},
        h("strong", {}, title),
        state ? [" ", h("span", { class: `status status-${visit.state}` }, state)] : null,
        h("div", { class: "meta" }, details),
        h("div", { class: "meta visit-when" }, this.when(visit)),
      ),
      this.actionFor(visit, this),
    );
  }

  /** What the person needs to know about the room, in words. */
  when(visit) {
    if (visit.state === "upcoming") {
      return `The room opens at ${formatTime(visit.opens_at)}, in ${durationInWords(this.until(visit.opens_at))}.`;
    }
    if (visit.state === "open") {
      const start = this.until(visit.start_at);
      return start > 60_000 ? `The room is open; the appointment starts in ${durationInWords(start)}.` : "The room is open.";
    }
    if (visit.state === "finished" && visit.ended_at) return `Ended at ${formatTime(visit.ended_at)}.`;
    return "";
  }

  /** Loads again when a room opens or closes, and every minute so the words stay true. */
  schedule() {
    clearTimeout(this.timer);
    const edges = this.visits
      .flatMap((visit) => [visit.opens_at, visit.closes_at])
      .map((iso) => this.until(iso))
      .filter((ms) => ms > 0);
    const next = Math.min(REFRESH_MS, ...edges.map((ms) => ms + 500));
    this.timer = setTimeout(() => this.load().catch(() => this.schedule()), next);
  }
}
