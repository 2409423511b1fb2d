// The patient view's series: history from the vitals API (raw for the last hour, min/avg/max
// buckets for longer ranges), continued with the live readings of the patient's feed.

import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { addToBuckets, trendChart } from "../shared/trend-chart.js";
import { VITAL_SIGNS, formatValue } from "../shared/vital-signs.js";

const HOUR_MS = 3_600_000;
// Range (hours) -> bucket of the vitals API and its width; the server's MAX_BUCKETS bounds these.
const BUCKETS = { 1: ["raw", 0], 4: ["1m", 60_000], 12: ["5m", 300_000], 24: ["15m", 900_000] };

export class PatientCharts {
  constructor({ patientId, container }) {
    this.patientId = patientId;
    this.container = container;
    this.hours = 1;
    this.series = new Map(); // code -> {points} or {buckets}, with `end` (ms) of the history
  }

  get bucket() {
    return BUCKETS[this.hours] ?? BUCKETS[1];
  }

  /** Loads the history of every vital sign for the current range. */
  async load() {
    const [bucket] = this.bucket;
    const start = new Date(Date.now() - this.hours * HOUR_MS).toISOString();
    const answers = await Promise.all(
      VITAL_SIGNS.map((sign) =>
        api(
          `/api/v1/patients/${this.patientId}/vitals?metric=${sign.code}&bucket=${bucket}&start=${encodeURIComponent(start)}`,
        ),
      ),
    );
    this.series.clear();
    for (const answer of answers) {
      this.series.set(answer.metric, {
        end: Date.parse(answer.end),
        latest: answer.points.at(-1)?.value ?? answer.buckets.at(-1)?.avg,
        points: answer.points.map((p) => ({ t: Date.parse(p.time), v: p.value })),
        buckets: answer.buckets.map((b) => ({ t: Date.parse(b.start), min: b.min, max: b.max, avg: b.avg, count: b.count })),
      });
    }
  }

  /** Continues the series with live readings ({metric, value, time}). */
  addReadings(readings) {
    const [bucket, widthMs] = this.bucket;
    for (const reading of readings) {
      const series = this.series.get(reading.metric);
      if (!series) continue;
      const t = Date.parse(reading.time);
      series.latest = reading.value;
      if (bucket === "raw") {
        const last = series.points[series.points.length - 1];
        // A reading already in the history (committed before it was loaded) is not drawn twice.
        if (!last || t > last.t) series.points.push({ t, v: reading.value });
      } else if (t >= series.end) {
        addToBuckets(series.buckets, widthMs, t, reading.value);
      }
    }
  }

  /** Draws one figure per vital sign measured in the range (the others are named, not drawn empty). */
  render() {
    const to = Date.now();
    const from = to - this.hours * HOUR_MS;
    const [bucket, widthMs] = this.bucket;
    const shownOf = (series) =>
      bucket === "raw"
        ? { points: series.points.filter((p) => p.t >= from) }
        : { buckets: series.buckets.filter((b) => b.t >= from - widthMs) };
    const measured = VITAL_SIGNS.filter((sign) => {
      const shown = shownOf(this.series.get(sign.code) ?? { points: [], buckets: [] });
      return (shown.points ?? shown.buckets).length > 0;
    });
    const missing = VITAL_SIGNS.filter((sign) => !measured.includes(sign));
    const figures = measured.map((sign) => {
      const series = this.series.get(sign.code);
      return h(
        "figure",
        { class: "chart card", dataset: { metric: sign.key } },
        h(
          "figcaption",
          {},
          h("strong", {}, sign.label),
          " ",
          h("span", { class: "chart-latest", "data-testid": `latest-${sign.key}` }, formatValue(sign, series.latest)),
          ` ${sign.unit}`,
        ),
        trendChart({ series: shownOf(series), from, to, label: sign.label, digits: sign.digits }),
      );
    });
    replace(
      this.container,
      figures,
      missing.length
        ? h("p", { class: "footer-note charts-missing" }, `No ${missing.map((s) => s.label.toLowerCase()).join(", ")} measured in this period.`)
        : null,
    );
  }
}
