// What the ward grid knows, in memory only (never stored in the browser): beds and who lies in
// them, each patient's latest values and recent trend, NEWS2 scores and alarms.

import { mergeAlarm } from "./alarm-view.js";

// Trend lines show the last half hour; older points are let go.
export const TREND_WINDOW_MS = 30 * 60_000;
const MAX_TREND_POINTS = 2000;

export class WardState {
  constructor() {
    this.beds = []; // [{bed_id, label, patient_id}] in the snapshot's order
    this.patients = new Map(); // patient id -> census patient (name, MRN)
    this.latest = new Map(); // patient id -> Map(code -> {value, time})
    this.trends = new Map(); // patient id -> Map(code -> [{t, v}])
    this.news2 = new Map(); // patient id -> NEWS2 answer of the API, asked for or pushed
    this.alarms = new Map(); // alarm id -> alarm
  }

  /** Takes the census (who lies where, with names). */
  setCensus(census) {
    for (const bed of census.beds) {
      if (bed.patient) this.patients.set(bed.patient.id, bed.patient);
    }
  }

  /**
   * Starts afresh from a hub snapshot: its alarms are all that is open now (any other was resolved
   * while the page was away); trends already drawn are kept and extended.
   */
  applySnapshot(snapshot) {
    this.alarms = new Map();
    this.beds = snapshot.beds.map(({ bed_id, label, patient_id }) => ({ bed_id, label, patient_id }));
    for (const bed of snapshot.beds) {
      if (!bed.patient_id) continue;
      this.latest.set(bed.patient_id, new Map());
      this.addReadings(bed.vitals.map((reading) => ({ ...reading, patient_id: bed.patient_id })));
    }
    for (const alarm of snapshot.alarms ?? []) mergeAlarm(this.alarms, alarm);
  }

  /** Adds readings ({patient_id, metric, value, time}); returns the ids of the patients touched. */
  addReadings(readings) {
    const touched = new Set();
    for (const reading of readings) {
      const patientId = reading.patient_id;
      if (!patientId) continue;
      const t = Date.parse(reading.time);
      const latest = this.latest.get(patientId) ?? new Map();
      this.latest.set(patientId, latest);
      const known = latest.get(reading.metric);
      if (!known || Date.parse(known.time) <= t) latest.set(reading.metric, reading);
      this.addTrendPoint(patientId, reading.metric, t, reading.value);
      touched.add(patientId);
    }
    return touched;
  }

  addTrendPoint(patientId, code, t, v) {
    const byMetric = this.trends.get(patientId) ?? new Map();
    this.trends.set(patientId, byMetric);
    const points = byMetric.get(code) ?? [];
    byMetric.set(code, points);
    if (points.length && points[points.length - 1].t === t) return; // a snapshot repeating a delta
    points.push({ t, v });
    if (points.length > 1 && points[points.length - 2].t > t) points.sort((a, b) => a.t - b.t);
    const cutoff = Date.now() - TREND_WINDOW_MS;
    while (points.length && (points[0].t < cutoff || points.length > MAX_TREND_POINTS)) points.shift();
  }

  trend(patientId, code) {
    return this.trends.get(patientId)?.get(code) ?? [];
  }

  bedOfPatient(patientId) {
    return this.beds.find((bed) => bed.patient_id === patientId) ?? null;
  }

  alarmsOf(patientId) {
    return new Map([...this.alarms].filter(([, alarm]) => alarm.patient_id === patientId));
  }
}
