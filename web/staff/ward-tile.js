// One bed's tile on the ward grid. Its parts are redrawn separately (vitals a few times a second,
// alarms when they change), so a button is never replaced under the nurse's finger.

import { h, replace } from "../shared/dom.js";
import { sparkline } from "../shared/sparkline.js";
import { BY_KEY, formatValue } from "../shared/vital-signs.js";
import { mrnLabel, word } from "../shared/words.js";
import { activeAlarms, alarmItem, PRIORITY_SYMBOL } from "./alarm-view.js";
import { alarmsChecked } from "./live-status.js";
import { scheduleLine } from "./observation-schedule.js";
import { TREND_WINDOW_MS } from "./ward-state.js";

// A value older than this is shown as stale: the monitor may be off or the patient disconnected.
const STALE_AFTER_MS = 2 * 60_000;
const TILE_SIGNS = ["hr", "spo2", "rr", "sbp", "temp"].map((key) => BY_KEY.get(key));
const NEWS2_WORDS = { low: "low risk", "low-medium": "low-medium risk", medium: "medium risk", high: "high risk" };

/** "Bed 3" for a label "3", and "Bed 03" as it is. */
export function bedName(label) {
  return /^bed\b/i.test(label) ? label : `Bed ${label}`;
}

export function patientName(patient) {
  return patient ? `${patient.given_name} ${patient.family_name}` : "Patient";
}

/** The empty tile of a bed: header, NEWS2, vitals and alarm areas, filled by the update functions. */
export function bedTile(bed, patient, wardId) {
  const titleId = `bed-${bed.bed_id}-title`;
  const header = h(
    "header",
    { class: "tile-header" },
    h("h2", { id: titleId }, bedName(bed.label)),
    bed.patient_id
      ? h(
          "a",
          { class: "tile-patient", href: `/staff/patient/?id=${encodeURIComponent(bed.patient_id)}&ward=${encodeURIComponent(wardId)}` },
          patientName(patient),
        )
      : h("span", { class: "tile-empty" }, "Empty bed"),
    patient ? h("span", { class: "meta" }, mrnLabel(patient.mrn)) : null,
  );
  return h(
    "article",
    {
      class: "bed-tile",
      "aria-labelledby": titleId,
      dataset: { bedId: bed.bed_id, patientId: bed.patient_id ?? "" },
    },
    header,
    bed.patient_id ? h("p", { class: "tile-news2", dataset: { part: "news2" } }) : null,
    bed.patient_id
      ? h(
          "div",
          { class: "tile-observations" },
          h("div", { dataset: { part: "schedule" } }),
          h(
            "a",
            { class: "button-quiet chart-observations-link", href: `/staff/observations/?patient=${encodeURIComponent(bed.patient_id)}&ward=${encodeURIComponent(wardId)}` },
            "Chart observations",
          ),
        )
      : null,
    bed.patient_id ? h("dl", { class: "tile-vitals", dataset: { part: "vitals" } }) : null,
    bed.patient_id ? h("div", { class: "tile-alarms", dataset: { part: "alarms" } }) : null,
  );
}

function part(tile, name) {
  return tile.querySelector(`[data-part="${name}"]`);
}

function isFresh(reading, now) {
  return Boolean(reading) && now - Date.parse(reading.time) <= STALE_AFTER_MS;
}

/** The signs this tile shows: the pulse rate stands in for a heart rate that is not current (an
 * oximeter or a cuff alone, ECG leads off), and end-tidal CO2 shows when the monitor sends it. */
function tileSigns(latest, now) {
  const signs = TILE_SIGNS.map((sign) => {
    const pulse = BY_KEY.get("pr");
    if (sign.key === "hr" && !isFresh(latest?.get(sign.code), now) && isFresh(latest?.get(pulse.code), now)) {
      return pulse;
    }
    return sign;
  });
  const etco2 = BY_KEY.get("etco2");
  return latest?.get(etco2.code) ? [...signs, etco2] : signs;
}

/** Redraws the vital signs with their trend lines. */
export function updateVitals(tile, { latest, trend, now = Date.now() }) {
  const rows = tileSigns(latest, now).map((sign) => {
    const reading = latest?.get(sign.code);
    const stale = reading && now - Date.parse(reading.time) > STALE_AFTER_MS;
    let value = formatValue(sign, reading?.value);
    let label = sign.short;
    let unit = sign.unit;
    if (sign.key === "sbp") {
      label = "BP";
      value = `${value}/${formatValue(BY_KEY.get("dbp"), latest?.get(BY_KEY.get("dbp").code)?.value)}`;
      // The mean pressure in brackets, as monitors show it, when the monitor sends one.
      const mean = latest?.get(BY_KEY.get("map").code);
      if (mean) value += ` (${formatValue(BY_KEY.get("map"), mean.value)})`;
    }
    return h(
      "div",
      { class: `vital${stale ? " vital-stale" : ""}`, dataset: { metric: sign.key } },
      h("dt", {}, label),
      h(
        "dd",
        {},
        h("span", { class: "vital-value", "data-testid": `value-${sign.key}` }, value),
        " ",
        h("span", { class: "vital-unit" }, unit),
        stale ? h("span", { class: "vital-note" }, " (stale)") : null,
        sparkline(trend(sign.code), { now, windowMs: TREND_WINDOW_MS, label: sign.label }),
      ),
    );
  });
  replace(part(tile, "vitals"), rows);
}

/** Shows the NEWS2 score and band, with words (the colour only repeats them). */
export function updateNews2(tile, news2) {
  const element = part(tile, "news2");
  element.className = `tile-news2${news2 ? ` news2-${news2.risk}` : ""}`;
  if (!news2) {
    replace(element, h("span", { class: "news2-label" }, "NEWS2"), " –");
    return;
  }
  const missing = news2.missing.map((name) => word("news2Parameter", name));
  const incomplete = news2.complete ? "" : ` (incomplete: ${missing.join(", ")} missing)`;
  replace(
    element,
    h("span", { class: "news2-label" }, "NEWS2 "),
    h("strong", { class: "news2-score", "data-testid": "news2-score" }, String(news2.total)),
    ` · ${NEWS2_WORDS[news2.risk] ?? news2.risk}${incomplete}`,
  );
}

/** Shows how often observations are due, the time since the last full set, and whether they are late. */
export function updateSchedule(tile, news2, now = Date.now()) {
  const element = part(tile, "schedule");
  if (element) replace(element, scheduleLine(news2, now));
}

/** Redraws the tile's alarms and sets the tile's alarm state (class and accessible label). */
export function updateAlarms(tile, { alarms, bedLabel, onAcknowledge }) {
  const active = activeAlarms(alarms);
  const top = active[0];
  tile.classList.remove("tile-alarm-high", "tile-alarm-medium", "tile-alarm-low", "tile-acknowledged");
  const state = part(tile, "alarms");
  if (!top) {
    tile.dataset.alarmState = "none";
    replace(state, alarmsChecked()
      ? h("p", { class: "alarm-none" }, "✓ No active alarm")
      : h("p", { class: "alarm-unchecked" }, "⚠ Alarms not being checked"));
    return;
  }
  tile.dataset.alarmState = top.status;
  tile.classList.add(top.status === "raised" ? `tile-alarm-${top.priority}` : "tile-acknowledged");
  const headline =
    top.status === "raised"
      ? `${PRIORITY_SYMBOL[top.priority]} ${top.priority.toUpperCase()} ALARM${top.condition_ended_at ? " · condition ended" : ""}`
      : "Alarm acknowledged";
  replace(
    state,
    h("p", { class: "alarm-headline" }, headline),
    h("ul", { class: "alarm-list" }, active.map((alarm) => alarmItem(alarm, { where: bedLabel, onAcknowledge }))),
  );
}
