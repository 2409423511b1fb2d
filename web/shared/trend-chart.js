// The patient view's charts, as inline SVG: a line of raw readings, or for long ranges a band from
// each bucket's minimum to its maximum with its average as the line. Axis labels in local time.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 600;
const HEIGHT = 200;
const PAD = { left: 48, right: 8, top: 10, bottom: 24 };

function svg(tag, attrs = {}, text = null) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  if (text !== null) element.textContent = text;
  return element;
}

const timeLabel = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/**
 * Draws `series` ({points: [{t, v}]} or {buckets: [{t, min, avg, max}]}) over [from, to] (ms).
 * Returns the SVG element, an image labelled with `label` and a summary of what it shows.
 */
export function trendChart({ series, from, to, label, digits = 0 }) {
  const points = series.points ?? [];
  const buckets = series.buckets ?? [];
  const lows = buckets.length ? buckets.map((b) => b.min) : points.map((p) => p.v);
  const highs = buckets.length ? buckets.map((b) => b.max) : points.map((p) => p.v);
  const count = lows.length;
  let low = count ? Math.min(...lows) : 0;
  let high = count ? Math.max(...highs) : 1;
  if (high - low < 1e-9) { low -= 1; high += 1; }
  const margin = (high - low) * 0.1;
  low -= margin;
  high += margin;
  const x = (t) => PAD.left + ((t - from) / Math.max(to - from, 1)) * (WIDTH - PAD.left - PAD.right);
  const y = (v) => HEIGHT - PAD.bottom - ((v - low) / (high - low)) * (HEIGHT - PAD.top - PAD.bottom);
  const summary = count
    ? `${label}: ${count} ${buckets.length ? "buckets" : "readings"}, lowest ${Math.min(...lows).toFixed(digits)}, highest ${Math.max(...highs).toFixed(digits)}`
    : `${label}: no readings in this range`;
  const root = svg("svg", { class: "trend-chart", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": summary });
  drawAxes(root, { x, y, from, to, low, high, digits });
  if (buckets.length) {
    const band = buckets.map((b) => `${x(b.t)},${y(b.max)}`).concat(
      [...buckets].reverse().map((b) => `${x(b.t)},${y(b.min)}`),
    );
    root.append(svg("polygon", { class: "trend-band", points: band.join(" ") }));
    root.append(svg("polyline", { class: "trend-line", points: buckets.map((b) => `${x(b.t)},${y(b.avg)}`).join(" ") }));
  } else if (points.length) {
    root.append(svg("polyline", { class: "trend-line", points: points.map((p) => `${x(p.t)},${y(p.v)}`).join(" ") }));
  }
  return root;
}

function drawAxes(root, { x, y, from, to, low, high, digits }) {
  for (const value of [low, (low + high) / 2, high]) {
    root.append(svg("line", { class: "trend-grid", x1: x(from), x2: x(to), y1: y(value), y2: y(value) }));
    root.append(svg("text", { class: "trend-axis", x: 2, y: y(value) + 5 }, value.toFixed(digits)));
  }
  for (let i = 0; i <= 4; i += 1) {
    const t = from + ((to - from) * i) / 4;
    const anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";
    root.append(svg("text", { class: "trend-axis", x: x(t), y: HEIGHT - 6, "text-anchor": anchor }, timeLabel.format(t)));
  }
}

/** Folds one live reading into bucketed series, so a long-range chart stays current. */
export function addToBuckets(buckets, widthMs, t, v) {
  const start = Math.floor(t / widthMs) * widthMs;
  const last = buckets[buckets.length - 1];
  if (last && last.t === start) {
    last.min = Math.min(last.min, v);
    last.max = Math.max(last.max, v);
    last.avg = (last.avg * last.count + v) / (last.count + 1);
    last.count += 1;
  } else if (!last || start > last.t) {
    buckets.push({ t: start, min: v, max: v, avg: v, count: 1 });
  }
}
