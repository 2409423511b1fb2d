// Alarms as the dashboards show them: merged from snapshots, hub messages and REST answers, and
// rendered with words and symbols as well as colour (priority and state are never colour alone).

import { api } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { metricName } from "../shared/vital-signs.js";

const STATUS_RANK = { raised: 0, acknowledged: 1, resolved: 2 };
const PRIORITY_RANK = { high: 3, medium: 2, low: 1 };
export const PRIORITY_SYMBOL = { high: "▲▲▲", medium: "▲▲", low: "▲" };

/**
 * Keeps the newest state of `alarm` in `alarms` (a Map by id). An alarm only moves forward
 * (raised, acknowledged, resolved), so a late or repeated message never undoes a newer one.
 * Returns true when something changed.
 */
export function mergeAlarm(alarms, alarm) {
  const known = alarms.get(alarm.id);
  if (known && STATUS_RANK[known.status] > STATUS_RANK[alarm.status]) return false;
  if (known && JSON.stringify(known) === JSON.stringify(alarm)) return false;
  alarms.set(alarm.id, alarm);
  return true;
}

/** Active alarms (not resolved), most urgent first: unacknowledged, then priority, then newest. */
export function activeAlarms(alarms) {
  return [...alarms.values()]
    .filter((a) => a.status !== "resolved")
    .sort(
      (a, b) =>
        STATUS_RANK[a.status] - STATUS_RANK[b.status] ||
        PRIORITY_RANK[b.priority] - PRIORITY_RANK[a.priority] ||
        b.raised_at.localeCompare(a.raised_at),
    );
}

/** "HR high 142", "NEWS2 7", "Device silent": what the alarm is about, in a few words. */
export function describeAlarm(alarm) {
  if (alarm.kind === "technical") return `Technical: ${alarm.code.replaceAll("_", " ").replaceAll("-", " ")}`;
  if (alarm.kind === "news2") {
    // A score of device values alone (consciousness or oxygen not charted) says so.
    const partial = alarm.detail?.complete === false ? " (partial)" : "";
    return `NEWS2 ${alarm.score ?? ""}${partial}`.replace(/\s+/g, " ").trim();
  }
  const side = alarm.detail?.side ?? "";
  const limit = side ? alarm.detail?.[side] : null;
  const value = alarm.value === null || alarm.value === undefined ? "" : ` ${alarm.value}`;
  const bound = limit === null || limit === undefined ? "" : ` (limit ${limit})`;
  return `${metricName(alarm.code)} ${side}${value}${bound}`.replace(/\s+/g, " ").trim();
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** One alarm as a list item, with an Acknowledge button while it is unacknowledged. */
export function alarmItem(alarm, { where, onAcknowledge }) {
  const what = describeAlarm(alarm);
  const escalated = alarm.escalated_at ? `, escalated at ${clock.format(new Date(alarm.escalated_at))}` : "";
  const state =
    alarm.status === "raised"
      ? `${alarm.priority} priority, not acknowledged, since ${clock.format(new Date(alarm.raised_at))}${escalated}`
      : `${alarm.priority} priority, acknowledged at ${clock.format(new Date(alarm.acknowledged_at))}`;
  // A latched alarm whose condition is gone stays until acknowledged, and says that it ended.
  const ended = alarm.condition_ended_at
    ? ` · condition ended at ${clock.format(new Date(alarm.condition_ended_at))}`
    : "";
  return h(
    "li",
    {
      class: `alarm alarm-${alarm.priority} alarm-${alarm.status}`,
      dataset: { alarmId: alarm.id, status: alarm.status },
    },
    h("span", { class: "alarm-symbol", "aria-hidden": "true" }, PRIORITY_SYMBOL[alarm.priority] ?? "▲"),
    h(
      "span",
      { class: "alarm-text" },
      h("strong", {}, what),
      h("span", { class: "alarm-state" }, alarm.status === "raised" ? ` · ${state}` : ` · ✓ ${state}`),
      ended ? h("span", { class: "alarm-ended" }, ended) : null,
    ),
    alarm.status === "raised"
      ? h(
          "button",
          {
            type: "button",
            class: "alarm-ack",
            "aria-label": `Acknowledge ${alarm.priority} alarm ${what}${where ? ` for ${where}` : ""}`,
            onclick: (event) => onAcknowledge(alarm, event.currentTarget),
          },
          "Acknowledge",
        )
      : null,
  );
}

/**
 * Acknowledges in one call; the answer is merged at once, and the hub's message about it (to every
 * dashboard watching) merges to the same state. Errors go to `onError`.
 */
export async function acknowledge(alarm, button, { alarms, onChange, onError }) {
  button.disabled = true;
  try {
    const change = await api(`/api/v1/alarms/${alarm.id}/acknowledge`, { method: "POST" });
    if (mergeAlarm(alarms, change.alarm)) onChange(change.alarm);
  } catch (error) {
    button.disabled = false;
    onError(error);
  }
}
