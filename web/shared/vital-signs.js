// The vital signs the dashboards show: LOINC code (as the server sends it), short label, unit, and
// how many decimals a person needs. The order is the order of the tiles and charts.

export const VITAL_SIGNS = [
  { key: "hr", code: "8867-4", short: "HR", label: "Heart rate", unit: "/min", digits: 0 },
  { key: "spo2", code: "59408-5", short: "SpO₂", label: "Oxygen saturation", unit: "%", digits: 0 },
  { key: "rr", code: "9279-1", short: "RR", label: "Respiratory rate", unit: "/min", digits: 0 },
  { key: "sbp", code: "8480-6", short: "BP sys", label: "Systolic blood pressure", unit: "mmHg", digits: 0 },
  { key: "dbp", code: "8462-4", short: "BP dia", label: "Diastolic blood pressure", unit: "mmHg", digits: 0 },
  { key: "temp", code: "8310-5", short: "Temp", label: "Body temperature", unit: "°C", digits: 1 },
];

// What some monitors send besides (IEEE 11073 SDC and PCD-01 monitors, oximeters and cuffs): shown on
// a bed's tile when its monitor sends them, not charted as signs every patient should have.
export const MONITOR_EXTRAS = [
  { key: "pr", code: "8889-8", short: "Pulse", label: "Pulse rate", unit: "/min", digits: 0 },
  { key: "map", code: "8478-0", short: "MAP", label: "Mean arterial pressure", unit: "mmHg", digits: 0 },
  { key: "etco2", code: "19891-1", short: "EtCO₂", label: "End-tidal CO₂", unit: "mmHg", digits: 0 },
];

export const BY_CODE = new Map([...VITAL_SIGNS, ...MONITOR_EXTRAS].map((sign) => [sign.code, sign]));
export const BY_KEY = new Map([...VITAL_SIGNS, ...MONITOR_EXTRAS].map((sign) => [sign.key, sign]));

/** A value rounded for display, or an en dash when there is none. */
export function formatValue(sign, value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return Number(value).toFixed(sign.digits);
}

/** The metric's display name for an alarm code such as "8867-4" or "news2". */
export function metricName(code) {
  if (code === "news2") return "NEWS2";
  return BY_CODE.get(code)?.short ?? code;
}
