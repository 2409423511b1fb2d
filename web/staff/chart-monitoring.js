// A monitored patient's live view: charts of the last hours continued live, NEWS2 with its breakdown,
// and the patient's alarms with acknowledge, fed by the patient's WebSocket subscription.

import { api } from "../shared/api.js";
import { emptyState, showError } from "../shared/alerts.js";
import { h, replace } from "../shared/dom.js";
import { LiveFeed } from "../shared/live-feed.js";
import { formatDateTime } from "../shared/time.js";
import { word } from "../shared/words.js";
import { acknowledge, activeAlarms, alarmItem, describeAlarm, mergeAlarm } from "./alarm-view.js";
import { alarmAnnouncer, alarmsChecked, showAlarmEvaluation, showStatus } from "./live-status.js";
import { PatientCharts } from "./patient-charts.js";
import { updateNews2 } from "./ward-tile.js";

const REDRAW_INTERVAL_MS = 1000;
// NEWS2 is pushed when the patient's score changes; asked for on (re)connecting, and again only when
// the one shown is this old (a score can change without an evaluation once its inputs grow stale).
const NEWS2_CONFIRM_MS = 5 * 60_000;
const RECENT_RESOLVED = 10;

function skeleton() {
  return [
    h("div", { class: "dashboard-bar" },
      h("form", { id: "range-form", class: "row", novalidate: true },
        h("label", {}, "Time range",
          h("select", { id: "range-select", name: "range" },
            h("option", { value: "1" }, "Last hour (every reading)"),
            h("option", { value: "4" }, "Last 4 hours (per minute)"),
            h("option", { value: "12" }, "Last 12 hours (per 5 minutes)"),
            h("option", { value: "24" }, "Last 24 hours (per 15 minutes)"))),
        h("label", { class: "switch" }, h("input", { id: "sound-toggle", type: "checkbox" }), " Alarm sound")),
      h("p", { id: "live-status", class: "live-status", role: "status", "data-state": "idle" }, "Not connected")),
    h("div", { id: "alarm-evaluation", role: "alert", hidden: true }),
    h("div", { id: "alarm-announcer", class: "visually-hidden", role: "alert", "aria-live": "assertive" }),
    h("div", { class: "chart-columns" },
      h("section", { class: "card", "aria-labelledby": "news2-title" },
        h("h2", { id: "news2-title" }, "NEWS2"),
        h("p", { id: "news2", class: "tile-news2", "data-part": "news2" }, "–"),
        h("ul", { id: "news2-breakdown", class: "news2-breakdown", "aria-label": "NEWS2 parameter scores" })),
      h("section", { class: "card", "aria-labelledby": "alarms-title" },
        h("h2", { id: "alarms-title" }, "Alarms"),
        h("div", { id: "patient-alarms" }))),
    h("section", { "aria-labelledby": "charts-title" },
      h("h2", { id: "charts-title" }, "Vital signs"),
      h("p", { class: "footer-note" }, "Bands show the lowest and highest reading of each interval, the line its average. Times are in your browser's time zone."),
      h("div", { id: "charts", class: "chart-grid" })),
  ];
}

/** Draws the live view into `region` and starts the patient's feed. */
export function startMonitoring(region, chart) {
  replace(region, skeleton());
  const patientId = chart.patient.id;
  const find = (id) => region.querySelector(`#${id}`);
  const alarms = new Map();
  const charts = new PatientCharts({ patientId, container: find("charts") });
  let redrawTimer = null;
  let news2At = 0;

  const renderAlarms = () => {
    const active = activeAlarms(alarms);
    const resolved = [...alarms.values()]
      .filter((a) => a.status === "resolved")
      .sort((a, b) => b.resolved_at.localeCompare(a.resolved_at))
      .slice(0, RECENT_RESOLVED);
    const onAcknowledge = (alarm, button) =>
      acknowledge(alarm, button, { alarms, onChange: renderAlarms, onError: (e) => showError(chart.messages, e) });
    replace(
      find("patient-alarms"),
      active.length
        ? h("ul", { class: "alarm-list", "aria-label": "Active alarms" }, active.map((a) => alarmItem(a, { onAcknowledge })))
        : alarmsChecked() ? emptyState("✓ No active alarm.") : h("p", { class: "alarm-unchecked" }, "⚠ Alarms are not being checked."),
      resolved.length
        ? h("details", {}, h("summary", {}, `Recently resolved (${resolved.length})`),
            h("ul", { class: "list" }, resolved.map((a) => h("li", {}, describeAlarm(a), h("span", { class: "meta" }, `resolved ${formatDateTime(a.resolved_at)}`)))))
        : null,
    );
  };
  let news2Shown = null;
  const showNews2 = (news2) => {
    // A push and an answer asked for can cross: the newer score stays.
    if (news2Shown && Date.parse(news2Shown.computed_at) > Date.parse(news2.computed_at)) return;
    news2Shown = news2;
    news2At = Date.now();
    updateNews2(find("news2").parentElement, news2);
    replace(find("news2-breakdown"), Object.entries(news2.parameter_scores).map(([name, score]) => h("li", {}, `${word("news2Parameter", name)}: ${score}`)));
  };
  const refreshNews2 = async (force) => {
    if (!force && Date.now() - news2At < NEWS2_CONFIRM_MS) return;
    news2At = Date.now();
    try {
      showNews2(await api(`/api/v1/patients/${patientId}/news2`));
    } catch {
      // No vitals yet: the dash stays, and the next readings ask again.
    }
  };
  const scheduleRedraw = () => {
    redrawTimer ??= setTimeout(() => {
      redrawTimer = null;
      charts.render();
    }, REDRAW_INTERVAL_MS);
  };
  const announce = alarmAnnouncer(() => activeAlarms(alarms).find((a) => a.status === "raised")?.priority ?? null);
  const handle = async (message) => {
    if (message.type === "snapshot") {
      // (Re)connected: the open alarms first, then the history, which covers whatever was missed.
      for (const alarm of message.alarms ?? []) mergeAlarm(alarms, alarm);
      renderAlarms();
      refreshNews2(true);
      const [, listed] = await Promise.all([charts.load(), api(`/api/v1/alarms?patient_id=${patientId}`)]);
      charts.render();
      // The list also holds the alarms resolved meanwhile, which the snapshot no longer names.
      for (const alarm of listed) mergeAlarm(alarms, alarm);
      renderAlarms();
    } else if (message.type === "vitals") {
      charts.addReadings(message.readings);
      scheduleRedraw();
      refreshNews2(false);
    } else if (message.type === "alarm") {
      // The bus message as the hub forwards it (`core.bus.AlarmMessage`): {type: "alarm", change, alarm}.
      const { change, alarm } = message.alarm;
      if (!mergeAlarm(alarms, alarm)) return;
      if (change === "raised") announce(alarm, `${chart.patient.given_name} ${chart.patient.family_name}`);
      renderAlarms();
    } else if (message.type === "news2") {
      showNews2(message.news2);
    } else if (message.type === "error") {
      showError(chart.messages, { title: "You cannot watch this patient", message: message.detail });
    }
  };
  let queue = Promise.resolve();
  const feed = new LiveFeed({
    subscriptions: [{ scope: "patient", id: patientId }],
    onMessage: (message) => {
      // Not queued behind a snapshot being drawn: it concerns the whole screen, at once.
      if (message.type === "alarm_evaluation") {
        showAlarmEvaluation(message);
        renderAlarms();
        return;
      }
      queue = queue.then(() => handle(message)).catch((error) => showError(chart.messages, error));
    },
    onStatus: showStatus,
  });
  find("range-select").addEventListener("change", (event) => {
    charts.hours = Number(event.target.value);
    queue = queue.then(async () => {
      await charts.load();
      charts.render();
    });
  });
  find("range-form").addEventListener("submit", (event) => event.preventDefault());
  feed.start();
  return feed;
}
