// The live ward grid: one hub subscription to the ward, one tile per bed. Hub messages are handled
// one at a time, in order (a snapshot may need the census first); tiles are redrawn in batches.

import { api } from "../shared/api.js";
import { showError } from "../shared/alerts.js";
import { byId, h, replace } from "../shared/dom.js";
import { LiveFeed } from "../shared/live-feed.js";
import { VITAL_SIGNS } from "../shared/vital-signs.js";
import { acknowledge, activeAlarms, mergeAlarm } from "./alarm-view.js";
import { showAlarmEvaluation, showStatus } from "./live-status.js";
import { TREND_WINDOW_MS, WardState } from "./ward-state.js";
import { bedName, bedTile, updateAlarms, updateNews2, updateSchedule, updateVitals } from "./ward-tile.js";

const REDRAW_INTERVAL_MS = 250;
// NEWS2 is pushed by the server each time a patient's score changes; it is asked for when the ward is
// (re)loaded, and again only when a patient's answer is this old (a safety net: a score can change
// without any evaluation once its inputs grow stale, and a push can be lost with the connection).
const NEWS2_CONFIRM_MS = 5 * 60_000;
const STALE_CHECK_MS = 15_000;

export class WardView {
  constructor({ wardId, grid, messages, announce }) {
    this.wardId = wardId;
    this.grid = grid;
    this.messages = messages;
    this.announce = announce;
    this.state = new WardState();
    this.tiles = new Map(); // patient id -> tile
    this.dirty = new Set();
    this.redrawTimer = null;
    this.news2At = new Map();
    this.historyLoaded = new Set();
    this.queue = Promise.resolve();
    this.feed = new LiveFeed({
      subscriptions: [{ scope: "ward", id: wardId }],
      onMessage: (message) => {
        // Not queued behind a snapshot being drawn: it concerns the whole screen, at once.
        if (message.type === "alarm_evaluation") {
          showAlarmEvaluation(message);
          for (const patientId of this.tiles.keys()) this.renderAlarms(patientId);
          return;
        }
        this.queue = this.queue.then(() => this.handle(message)).catch((error) => showError(this.messages, error));
      },
      onStatus: showStatus,
    });
    this.staleTimer = setInterval(() => {
      this.markDirty(this.tiles.keys());
      // "Last full set 25 minutes ago" ages, and a set falls due, without any reading arriving.
      for (const [patientId, tile] of this.tiles) updateSchedule(tile, this.state.news2.get(patientId));
    }, STALE_CHECK_MS);
  }

  start() {
    replace(this.grid, h("p", { class: "empty" }, "Loading the ward…"));
    this.feed.start();
  }

  stop() {
    this.feed.stop();
    clearInterval(this.staleTimer);
    clearTimeout(this.redrawTimer);
  }

  async handle(message) {
    if (message.type === "snapshot") await this.onSnapshot(message);
    else if (message.type === "vitals") this.onVitals(message.readings);
    else if (message.type === "alarm") this.onAlarm(message.alarm);
    else if (message.type === "news2") this.onNews2(message.news2);
    else if (message.type === "error") this.onRefused(message);
  }

  async onSnapshot(snapshot) {
    // Names come from the census (the hub sends ids only); asked again each time, as beds change.
    const census = await api(`/api/v1/wards/${this.wardId}/census`);
    this.state.setCensus(census);
    byId("ward-title").textContent = `${census.ward_name}: live`;
    this.state.applySnapshot(snapshot);
    this.renderGrid();
    for (const bed of this.state.beds) {
      if (bed.patient_id) this.refreshNews2(bed.patient_id, true);
    }
    this.loadHistories();
  }

  onVitals(readings) {
    const touched = this.state.addReadings(readings);
    this.markDirty(touched);
    for (const patientId of touched) this.refreshNews2(patientId, false);
  }

  onAlarm(payload) {
    // The hub forwards the bus message (`core.bus.AlarmMessage`): {type: "alarm", change, alarm}.
    const { change, alarm } = payload;
    if (!mergeAlarm(this.state.alarms, alarm)) return;
    const bed = this.state.bedOfPatient(alarm.patient_id);
    if (change === "raised" && bed) this.announce(alarm, bedName(bed.label));
    this.renderAlarms(alarm.patient_id);
  }

  /** A score the server pushed: shown at once, unless a newer one is shown already. */
  onNews2(answer) {
    const shown = this.state.news2.get(answer.patient_id);
    if (shown && Date.parse(shown.computed_at) > Date.parse(answer.computed_at)) return;
    this.news2At.set(answer.patient_id, Date.now());
    this.showNews2(answer.patient_id, answer);
  }

  onRefused(error) {
    if (error.scope !== "ward") {
      showError(this.messages, { title: "Live feed", message: error.detail });
      return;
    }
    this.stop();
    replace(this.grid);
    showStatus({ state: "refused", detail: error.detail });
    showError(this.messages, { title: "You cannot watch this ward", message: error.detail });
  }

  renderGrid() {
    this.tiles.clear();
    const tiles = this.state.beds.map((bed) => {
      const tile = bedTile(bed, this.state.patients.get(bed.patient_id), this.wardId);
      if (bed.patient_id) this.tiles.set(bed.patient_id, tile);
      this.drawTile(tile, bed.patient_id);
      return tile;
    });
    replace(this.grid, tiles.length ? tiles : h("p", { class: "empty" }, "This ward has no beds in service."));
  }

  drawTile(tile, patientId) {
    if (!patientId) return; // an empty bed shows its label and "Empty bed" only
    updateVitals(tile, { latest: this.state.latest.get(patientId), trend: (code) => this.state.trend(patientId, code) });
    updateNews2(tile, this.state.news2.get(patientId));
    updateSchedule(tile, this.state.news2.get(patientId));
    this.renderAlarms(patientId, tile);
  }

  renderAlarms(patientId, tile = this.tiles.get(patientId)) {
    if (!tile) return;
    const bed = this.state.bedOfPatient(patientId);
    updateAlarms(tile, {
      alarms: patientId ? this.state.alarmsOf(patientId) : new Map(),
      bedLabel: bed ? bedName(bed.label) : "",
      onAcknowledge: (alarm, button) =>
        acknowledge(alarm, button, {
          alarms: this.state.alarms,
          onChange: (changed) => this.renderAlarms(changed.patient_id),
          onError: (error) => showError(this.messages, error),
        }),
    });
  }

  /** The priority of the most urgent unacknowledged alarm of a patient in a bed here, or null. */
  mostUrgent() {
    const inBeds = new Set(this.state.beds.map((bed) => bed.patient_id).filter(Boolean));
    const open = activeAlarms(this.state.alarms).filter((a) => a.status === "raised" && inBeds.has(a.patient_id));
    return open[0]?.priority ?? null;
  }

  markDirty(patientIds) {
    for (const id of patientIds) this.dirty.add(id);
    this.redrawTimer ??= setTimeout(() => {
      this.redrawTimer = null;
      const ids = [...this.dirty];
      this.dirty.clear();
      for (const id of ids) {
        const tile = this.tiles.get(id);
        if (!tile) continue;
        updateVitals(tile, { latest: this.state.latest.get(id), trend: (code) => this.state.trend(id, code) });
      }
    }, REDRAW_INTERVAL_MS);
  }

  async refreshNews2(patientId, force) {
    const last = this.news2At.get(patientId) ?? 0;
    if (!force && Date.now() - last < NEWS2_CONFIRM_MS) return;
    this.news2At.set(patientId, Date.now());
    let answer;
    try {
      answer = await api(`/api/v1/patients/${patientId}/news2`);
    } catch {
      return; // no vitals yet, or a passing failure: the tile keeps its dash and asks again later
    }
    const shown = this.state.news2.get(patientId);
    if (shown && Date.parse(shown.computed_at) > Date.parse(answer.computed_at)) return; // a push overtook it
    this.showNews2(patientId, answer);
  }

  showNews2(patientId, answer) {
    this.state.news2.set(patientId, answer);
    const tile = this.tiles.get(patientId);
    if (!tile) return;
    updateNews2(tile, answer);
    updateSchedule(tile, answer);
  }

  /** The last half hour of each patient's trends, per minute, fetched once per patient. */
  async loadHistories() {
    const start = new Date(Date.now() - TREND_WINDOW_MS).toISOString();
    for (const bed of this.state.beds) {
      const patientId = bed.patient_id;
      if (!patientId || this.historyLoaded.has(patientId)) continue;
      this.historyLoaded.add(patientId);
      const series = await Promise.all(
        VITAL_SIGNS.map((sign) =>
          api(
            `/api/v1/patients/${patientId}/vitals?metric=${sign.code}&bucket=1m&start=${encodeURIComponent(start)}`,
          ).catch(() => null),
        ),
      );
      for (const one of series) {
        for (const bucket of one?.buckets ?? []) {
          this.state.addTrendPoint(patientId, one.metric, Date.parse(bucket.start), bucket.avg);
        }
      }
      this.markDirty([patientId]);
    }
  }
}
