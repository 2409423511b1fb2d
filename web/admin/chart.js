// A horizontal bar chart in SVG, drawn here: one bar per row, labelled with its value. Text is set as
// text nodes (never markup), and the chart carries a title and description for screen readers.

const SVG = "http://www.w3.org/2000/svg";
const ROW = 28;
const LABEL_WIDTH = 220;
const VALUE_WIDTH = 90;
const WIDTH = 760;

function node(tag, attrs = {}, text = null) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  if (text !== null) element.textContent = text;
  return element;
}

function shorten(text, max = 30) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** An <svg> of `bars` ({label, value}) titled `title`; negative and missing values draw no bar. */
export function barChart(title, bars) {
  const height = bars.length * ROW + 10;
  const max = Math.max(0, ...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)));
  const scale = max > 0 ? (WIDTH - LABEL_WIDTH - VALUE_WIDTH) / max : 0;
  const svg = node("svg", { class: "chart", viewBox: `0 0 ${WIDTH} ${height}`, role: "img", "aria-labelledby": "chart-title chart-desc" });
  svg.append(node("title", { id: "chart-title" }, title));
  svg.append(node("desc", { id: "chart-desc" }, bars.map((b) => `${b.label}: ${b.value ?? "none"}`).join("; ")));
  svg.append(node("line", { class: "axis", x1: LABEL_WIDTH, x2: LABEL_WIDTH, y1: 0, y2: height }));
  bars.forEach((bar, index) => {
    const y = index * ROW + 5;
    const value = Number.isFinite(bar.value) ? bar.value : null;
    const width = value && value > 0 ? Math.max(1, value * scale) : 0;
    const group = node("g", { "data-label": bar.label });
    group.append(node("text", { class: "label", x: LABEL_WIDTH - 8, y: y + ROW / 2, "text-anchor": "end", "dominant-baseline": "middle" }, shorten(bar.label)));
    group.append(node("rect", { class: "bar", x: LABEL_WIDTH, y: y + 3, width, height: ROW - 8 }));
    group.append(node("text", { class: "value", x: LABEL_WIDTH + width + 6, y: y + ROW / 2, "dominant-baseline": "middle" }, value === null ? "–" : formatNumber(value)));
    svg.append(group);
  });
  return svg;
}

export function formatNumber(value) {
  return Number.isInteger(value) ? value.toLocaleString() : value.toLocaleString(undefined, { maximumFractionDigits: 2 });
}
