// The "Chart observations" form: a full NEWS2 set, prefilled with the monitor's latest values for the
// nurse to confirm or correct. Consciousness is never prefilled (it is assessed at each round); oxygen
// is prefilled from the last charting, as a prescription usually stands. The server checks every
// value and names the field it refuses; the form marks that field (see shared/forms.js).

import { api } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { choice, field, onSubmit } from "../shared/forms.js";
import { formatTime } from "../shared/time.js";
import { word } from "../shared/words.js";
import { sinceInWords } from "./observation-schedule.js";

// A monitor value older than this is shown beside the field, not typed into it: it is not "now".
const PREFILL_MAX_AGE_MS = 15 * 60_000;
const MEASURED = [
  { name: "respiration_rate", label: "Respiration rate", unit: "breaths/min", digits: 0 },
  { name: "spo2", label: "Oxygen saturation (SpO₂)", unit: "%", digits: 0 },
  { name: "systolic_bp", label: "Systolic blood pressure", unit: "mmHg", digits: 0 },
  { name: "diastolic_bp", label: "Diastolic blood pressure", unit: "mmHg", digits: 0, optional: true },
  { name: "pulse", label: "Pulse", unit: "beats/min", digits: 0 },
  { name: "temperature_c", label: "Temperature", unit: "°C", digits: 1 },
];
const CONSCIOUSNESS = ["A", "C", "V", "P", "U"];
const DEVICES = ["nasal_cannula", "simple_mask", "venturi_mask", "non_rebreather_mask", "high_flow_nasal", "cpap_niv", "tracheostomy_mask", "other"];

function measuredField(spec, reading, now) {
  const fresh = reading && now - Date.parse(reading.time) <= PREFILL_MAX_AGE_MS;
  const shown = reading ? Number(reading.value).toFixed(spec.digits) : null;
  const hint = !reading
    ? "No monitor value: measure and type it."
    : fresh
      ? `From the monitor, ${sinceInWords(reading.time, now)}: confirm or correct.`
      : `Last from the monitor: ${shown} ${spec.unit}, ${sinceInWords(reading.time, now)} (too old to use).`;
  const label = field(`${spec.label} (${spec.unit}${spec.optional ? ", optional" : ""})`, {
    name: spec.name,
    inputmode: "decimal",
    autocomplete: "off",
    value: fresh ? shown : null,
    "aria-describedby": `${spec.name}-hint`,
  });
  label.append(h("span", { class: "field-hint", id: `${spec.name}-hint` }, hint));
  return label;
}

function oxygenFields(last) {
  const onOxygen = last?.on_oxygen === true;
  const device = choice("Oxygen device", { name: "oxygen_device" }, [["", "Choose…"], ...DEVICES.map((d) => [d, word("oxygenDevice", d)])]);
  const flow = field("Oxygen flow (L/min)", { name: "oxygen_flow_l_min", inputmode: "decimal", autocomplete: "off", value: onOxygen ? last.oxygen_flow_l_min : null });
  if (onOxygen) device.querySelector("select").value = last.oxygen_device ?? "";
  const details = h("div", { class: "row oxygen-details" }, device, flow);
  const air = choice("Air or oxygen", { name: "on_oxygen" }, [["", "Choose…"], ["false", "Air"], ["true", "Oxygen"]]);
  const select = air.querySelector("select");
  if (last) select.value = String(last.on_oxygen);
  // Disabled fields are not submitted: on air the device and flow are left out, as the server asks.
  const sync = () => {
    const given = select.value === "true";
    details.hidden = !given;
    for (const control of details.querySelectorAll("select, input")) control.disabled = !given;
  };
  select.addEventListener("change", sync);
  sync();
  const hint = last
    ? h("span", { class: "field-hint" }, `As charted ${sinceInWords(last.recorded_at)} (at ${formatTime(last.recorded_at)}): confirm or change.`)
    : null;
  return [h("div", { class: "stack" }, air, hint), details];
}

/** The body the API takes from the form's values: numbers as numbers, the oxygen choice as a boolean. */
export function observationSet(data) {
  const body = {};
  for (const spec of MEASURED) {
    if (data[spec.name] === undefined) continue;
    const number = Number(data[spec.name].replace(",", "."));
    // Not a number: sent as typed, so that the server names the field and says why.
    body[spec.name] = Number.isFinite(number) ? number : data[spec.name];
  }
  if (data.on_oxygen !== undefined) body.on_oxygen = data.on_oxygen === "true";
  if (data.oxygen_device !== undefined) body.oxygen_device = data.oxygen_device;
  if (data.oxygen_flow_l_min !== undefined) {
    const flow = Number(data.oxygen_flow_l_min.replace(",", "."));
    body.oxygen_flow_l_min = Number.isFinite(flow) ? flow : data.oxygen_flow_l_min;
  }
  if (data.consciousness !== undefined) body.consciousness = data.consciousness;
  return body;
}

/**
 * The form for `patientId`, from the API's prefill; `onCharted(set)` runs after the server stored the
 * set and returns the confirmation to show.
 */
export function observationForm({ patientId, prefill, messages, onCharted, now = Date.now() }) {
  const values = prefill.device_values ?? {};
  const [rr, spo2, sbp, dbp, pulse, temp] = MEASURED.map((spec) => measuredField(spec, values[spec.name], now));
  const form = h(
    "form",
    { id: "observation-form", class: "stack observation-form", novalidate: true },
    h("fieldset", {}, h("legend", {}, "Breathing"), h("div", { class: "row" }, rr, spo2), ...oxygenFields(prefill.last_charted)),
    h("fieldset", {}, h("legend", {}, "Circulation"), h("div", { class: "row" }, sbp, dbp, pulse)),
    h(
      "fieldset",
      {},
      h("legend", {}, "Consciousness and temperature"),
      h(
        "div",
        { class: "row" },
        choice("Consciousness (ACVPU)", { name: "consciousness" }, [["", "Choose…"], ...CONSCIOUSNESS.map((c) => [c, word("consciousness", c)])]),
        temp,
      ),
    ),
    h("div", {}, h("button", { type: "submit" }, "Chart observations")),
  );
  onSubmit(form, messages, async (data) => {
    const set = await api(`/api/v1/patients/${patientId}/observation-sets`, { method: "POST", json: observationSet(data) });
    return onCharted(set);
  });
  return form;
}
