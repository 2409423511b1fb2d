// The system page: whether alarms are being evaluated, ingest rate, connected devices, dead letters
// and the notification backlog, as the platform sees them now; refreshed on demand and every 30
// seconds while the page is visible.

import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";
import { act, card, table } from "./ui.js";

const REFRESH_MS = 30_000;

function figure(label, value, id) {
  return h("div", {}, h("dt", {}, label), h("dd", { id, class: typeof value === "number" ? null : "unavailable" }, String(value)));
}

export async function render(container, { messages }) {
  const figures = h("dl", { class: "figures", id: "system-figures" });
  const checked = h("p", { class: "footer-note", id: "checked-at" });
  const evaluation = h("div", { id: "alarm-evaluation-status" });
  const reasons = h("div", { id: "dead-letter-reasons" });
  const newest = h("div", { id: "dead-letters" });
  const refresh = h("button", { type: "button", class: "button-quiet" }, "Refresh");
  replace(
    container,
    h("div", { class: "actions" }, refresh),
    checked,
    card("evaluation-title", "Alarm evaluation", evaluation),
    figures,
    card("reasons-title", "Unresolved dead letters by reason", reasons),
    card("dead-title", "Newest dead letters", newest),
  );

  const load = async () => {
    const status = await api("/api/v1/system/status");
    const backlog = status.notification_backlog;
    replace(
      figures,
      figure("Readings in the last minute", status.ingest.last_minute, "ingest-minute"),
      figure("Readings per second (last minute)", status.ingest.per_second_last_minute, "ingest-rate"),
      figure("Readings in the last hour", status.ingest.last_hour, "ingest-hour"),
      figure("Devices connected (last 5 minutes)", status.connected_devices, "connected-devices"),
      figure("Dead letters unresolved", status.dead_letters.unresolved, "dead-unresolved"),
      figure("Notifications pending", backlog ? backlog.pending : "not available", "notifications-pending"),
      figure("Notifications failed for good", backlog ? backlog.dead : "not available", "notifications-dead"),
    );
    checked.textContent = `As of ${formatDateTime(status.checked_at)}.`;
    showEvaluation(evaluation, status.alarm_evaluation, status.checked_at);
    replace(reasons, table({
      id: "reasons-table", caption: "Reasons", columns: ["Reason", "Count"], empty: "No unresolved dead letters.",
      rows: status.dead_letters.by_reason.map((r) => ({ cells: [r.reason_code, String(r.count)] })),
    }));
    replace(newest, table({
      id: "dead-letters-table", caption: `The ${status.dead_letters.newest.length} newest of ${status.dead_letters.total}`,
      columns: ["Received", "Device", "Topic", "Reason", "Size"], empty: "No dead letters: every message was accepted.",
      rows: status.dead_letters.newest.map((d) => ({ attrs: { "data-dead-letter-id": d.id }, cells: [
        formatDateTime(d.received_at), d.device_id ?? "unknown", d.topic, `${d.reason_code}: ${d.reason}`, `${d.payload_size} bytes`] })),
    }));
  };
  refresh.addEventListener("click", () => act(messages, load));
  setInterval(() => { if (document.visibilityState === "visible") act(messages, load); }, REFRESH_MS);
  await load();
}

const EVALUATION_WORDS = {
  running: "Running: alarms are being checked.",
  starting: "Starting: this server has not yet heard from the alarm service.",
  unknown: "Unknown: this server is not running the live feed.",
};

function secondsAgo(iso, now) {
  return `${Math.max(0, Math.round((Date.parse(now) - Date.parse(iso)) / 1000))} s ago`;
}

function showEvaluation(region, evaluation, checkedAt) {
  const stopped = evaluation.state === "stopped";
  const last = evaluation.last_heard_at ? formatDateTime(evaluation.last_heard_at) : "never, since this server started";
  const sentence = stopped
    ? `Stopped: no alarm service has reported for ${evaluation.stale_after_s} seconds (last heard ${last}). No new alarm reaches the dashboards; they say so to the nurses. Check that an ownat ingest process that evaluates alarms is running, and read its logs.`
    : EVALUATION_WORDS[evaluation.state];
  replace(region,
    h("p", { id: "alarm-evaluation-state", class: stopped ? "alert alert-error" : null }, sentence),
    table({
      id: "evaluators-table", caption: "Alarm services heard", columns: ["Process", "Last heard", "Waiting"],
      empty: "None heard.",
      rows: evaluation.evaluators.map((e) => ({ cells: [
        e.name, secondsAgo(e.last_heard_at, checkedAt), String(e.waiting)] })),
    }));
}
