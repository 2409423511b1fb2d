// When a patient's next full set of observations is due, in words: the RCP monitoring frequency for
// the current NEWS2 band, the time since the last full set, and "Observations overdue" when late.
// The server decides (see realtime/alarms/monitoring_frequency.py); this only says it.

import { h } from "../shared/dom.js";
import { durationInWords } from "../shared/time.js";
import { word } from "../shared/words.js";

/** "25 minutes ago", or "just now" within the first minute. */
export function sinceInWords(iso, now = Date.now()) {
  const elapsed = now - Date.parse(iso);
  return elapsed < 60_000 ? "just now" : `${durationInWords(elapsed)} ago`;
}

/** The schedule line of a NEWS2 answer: an element whose class says whether the set is late. */
export function scheduleLine(news2, now = Date.now()) {
  const monitoring = news2?.monitoring;
  if (!monitoring) return h("p", { class: "obs-schedule" }, "Observations: –");
  // Overdue by the server's clock when it answered, or by ours since (the page stays open for hours).
  const overdue = monitoring.overdue || (monitoring.due_at !== null && Date.parse(monitoring.due_at) < now);
  const last = monitoring.last_full_set_at
    ? `last full set ${sinceInWords(monitoring.last_full_set_at, now)}`
    : "no full set charted yet";
  return h(
    "p",
    { class: `obs-schedule${overdue ? " obs-overdue" : ""}`, dataset: { overdue: String(overdue) } },
    overdue ? h("strong", {}, "⚠ Observations overdue · ") : null,
    `${word("monitoringFrequency", monitoring.frequency)} · ${last}`,
  );
}
