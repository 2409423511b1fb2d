// One patient's monitoring view: charts of the last hours continued live, NEWS2 with its
// breakdown, and the patient's alarms with acknowledge. The patient is named by ?id=... .

import { api } from "../shared/api.js";
import { emptyState, showError } from "../shared/alerts.js";
import { requireUser } from "../shared/auth.js";
import { byId, h, replace } from "../shared/dom.js";
import { renderLayout } from "../shared/layout.js";
import { LiveFeed } from "../shared/live-feed.js";
import { formatDateTime } from "../shared/time.js";
import { acknowledge, activeAlarms, alarmItem, describeAlarm, mergeAlarm } from "./alarm-view.js";
import { alarmAnnouncer, showStatus } from "./live-status.js";
import { PatientCharts } from "./patient-charts.js";
import { updateNews2 } from "./ward-tile.js";

const REDRAW_INTERVAL_MS = 1000;
const NEWS2_REFRESH_MS = 15_000;
const RECENT_RESOLVED = 10;

const address = new URL(window.location.href).searchParams;
const patientId = address.get("id");
const alarms = new Map();
let charts = null;
let redrawTimer = null;
let news2At = 0;

function messages() {
  return byId("messages");
}

function renderAlarms() {
  const active = activeAlarms(alarms);
  const resolved = [...alarms.values()]
    .filter((a) => a.status === "resolved")
    .sort((a, b) => b.resolved_at.localeCompare(a.resolved_at))
    .slice(0, RECENT_RESOLVED);
  const onAcknowledge = (alarm, button) =>
    acknowledge(alarm, button, { alarms, onChange: renderAlarms, onError: (e) => showError(messages(), e) });
  replace(
    byId("patient-alarms"),
    active.length
      ? h("ul", { class: "alarm-list", "aria-label": "Active alarms" }, active.map((a) => alarmItem(a, { onAcknowledge })))
      : emptyState("✓ No active alarm."),
    resolved.length
      ? h(
          "details",
          {},
          h("summary", {}, `Recently resolved (${resolved.length})`),
          h("ul", { class: "list" }, resolved.map((a) => h("li", {}, describeAlarm(a), h("span", { class: "meta" }, `resolved ${formatDateTime(a.resolved_at)}`)))),
        )
      : null,
  );
}

async function refreshNews2(force) {
  if (!force && Date.now() - news2At < NEWS2_REFRESH_MS) return;
  news2At = Date.now();
  try {
    const news2 = await api(`/api/v1/patients/${patientId}/news2`);
    updateNews2(byId("news2").parentElement, news2);
    replace(
      byId("news2-breakdown"),
      Object.entries(news2.parameter_scores).map(([name, score]) => h("li", {}, `${name.replaceAll("_", " ")}: ${score}`)),
    );
  } catch {
    // No vitals yet: the dash stays, and the next readings ask again.
  }
}

function scheduleRedraw() {
  redrawTimer ??= setTimeout(() => {
    redrawTimer = null;
    charts.render();
  }, REDRAW_INTERVAL_MS);
}

async function handle(message, announce) {
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
    const alarm = message.alarm.alarm ?? message.alarm;
    if (!mergeAlarm(alarms, alarm)) return;
    if (message.alarm.change === "raised") announce(alarm, byId("patient-title").textContent);
    renderAlarms();
    if (alarm.kind === "news2") refreshNews2(true);
  } else if (message.type === "error") {
    showError(messages(), { title: "You cannot watch this patient", message: message.detail });
  }
}

async function main() {
  const user = await requireUser(["admin", "clinician", "nurse"]);
  if (!user) return;
  renderLayout(user);
  if (address.get("ward")) byId("back-link").href = `/staff/dashboard/?ward=${encodeURIComponent(address.get("ward"))}`;
  if (!patientId) throw new Error("No patient was chosen: open this page from the ward dashboard.");
  const announce = alarmAnnouncer(() => activeAlarms(alarms).find((a) => a.status === "raised")?.priority ?? null);
  const patient = await api(`/api/v1/patients/${patientId}`);
  byId("patient-title").textContent = `${patient.given_name} ${patient.family_name} · MRN ${patient.mrn}`;
  charts = new PatientCharts({ patientId, container: byId("charts") });
  let queue = Promise.resolve();
  const feed = new LiveFeed({
    subscriptions: [{ scope: "patient", id: patientId }],
    onMessage: (message) => {
      queue = queue.then(() => handle(message, announce)).catch((error) => showError(messages(), error));
    },
    onStatus: showStatus,
  });
  byId("range-select").addEventListener("change", (event) => {
    charts.hours = Number(event.target.value);
    queue = queue.then(async () => {
      await charts.load();
      charts.render();
    });
  });
  byId("range-form").addEventListener("submit", (event) => event.preventDefault());
  feed.start();
}

main().catch((error) => showError(byId("messages"), error));
