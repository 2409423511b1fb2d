// Short trend lines drawn as inline SVG: time on x, value on y, scaled to the points shown.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 120;
const HEIGHT = 28;
const MIN_SPAN_MS = 5 * 60_000;

function svg(tag, attrs) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  return element;
}

/** The polyline's "x,y" pairs for `points` ({t: ms, v}) over [from, to], padded vertically. */
export function sparkPath(points, from, to, width = WIDTH, height = HEIGHT) {
  if (!points.length) return "";
  const values = points.map((p) => p.v);
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (high - low < 1e-9) { low -= 1; high += 1; } // a flat line sits in the middle
  const span = Math.max(to - from, 1);
  const x = (t) => (((t - from) / span) * width).toFixed(1);
  const y = (v) => (height - 2 - ((v - low) / (high - low)) * (height - 4)).toFixed(1);
  return points.map((p) => `${x(p.t)},${y(p.v)}`).join(" ");
}

/**
 * An SVG sparkline of `points` ({t, v}, oldest first) over the last `windowMs` up to `now` (or
 * from the first point, at least five minutes back).
 * It is an image with a text alternative: the first and last value of the window.
 */
export function sparkline(points, { now = Date.now(), windowMs, label }) {
  const shown = points.filter((p) => p.t >= now - windowMs && p.t <= now);
  // A short history (a monitor just attached) spreads over the line instead of crowding its end.
  const from = Math.max(now - windowMs, Math.min(shown[0]?.t ?? now, now - MIN_SPAN_MS));
  const summary = shown.length
    ? `${label} trend: from ${shown[0].v} to ${shown[shown.length - 1].v}`
    : `${label} trend: no readings yet`;
  const root = svg("svg", {
    class: "sparkline",
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": summary,
  });
  if (shown.length) {
    const path = sparkPath(shown, from, now);
    root.append(svg("polyline", { points: path, "vector-effect": "non-scaling-stroke" }));
    const [cx, cy] = path.split(" ").pop().split(",");
    root.append(svg("circle", { cx, cy, r: 1.8 }));
  }
  return root;
}
