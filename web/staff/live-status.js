// The connection line both live pages show, the warning when alarms are not being evaluated, and
// the alarm announcement for screen readers and ears.

import { byId, h, replace } from "../shared/dom.js";
import { AlarmSound } from "../shared/alarm-sound.js";
import { formatTime } from "../shared/time.js";
import { describeAlarm } from "./alarm-view.js";

const ANNOUNCED = 3;
const REMIND_EVERY_MS = 10_000;

const WORDS = {
  connecting: () => "Connecting to the live feed…",
  live: () => "● Live",
  waiting: (status) => `Connection lost: reconnecting in ${Math.ceil(status.retryInMs / 1000)} s`,
  refused: (status) => `Live feed refused: ${status.detail}`,
};

/** Shows the feed's state in #live-status. */
export function showStatus(status) {
  const element = byId("live-status");
  element.dataset.state = status.state;
  element.textContent = WORDS[status.state](status);
}

// Set while the server says no alarm evaluator is heard: the reminder sounds for it too, and no tile
// may say "no active alarm" (it cannot know).
let evaluationStopped = false;

/** False while the server says no alarm service is heard. */
export function alarmsChecked() {
  return !evaluationStopped;
}

let resumedTimer = null;
const RESUMED_SHOWN_MS = 120_000;

/**
 * Shows in #alarm-evaluation what the hub says of alarm evaluation (realtime/hub/alarm_watch.py):
 * a standing warning while no evaluator is heard, because the tiles alone would look calm; a short
 * notice when it is back. `state` "starting" and "running" show nothing otherwise.
 */
export function showAlarmEvaluation(status) {
  const region = byId("alarm-evaluation");
  if (!region) return;
  clearTimeout(resumedTimer);
  if (status.state === "stopped") {
    evaluationStopped = true;
    const since = status.last_heard_at
      ? `No alarm service has reported since ${formatTime(status.last_heard_at)}.`
      : `No alarm service has reported since this server started at ${formatTime(status.watching_since)}.`;
    region.hidden = false;
    region.className = "alert alert-error alarm-evaluation";
    replace(region,
      h("strong", {}, "Alarms are not being checked"),
      h("p", {}, `${since} New alarms will not appear on this screen until it is back: check your patients at the bedside and call IT.`));
    return;
  }
  if (evaluationStopped && status.state === "running") {
    region.hidden = false;
    region.className = "alert alert-ok alarm-evaluation";
    replace(region, h("strong", {}, "Alarms are being checked again"),
      h("p", {}, "Alarms raised while the service was away appear as it catches up."));
    resumedTimer = setTimeout(() => { region.hidden = true; }, RESUMED_SHOWN_MS);
  } else {
    region.hidden = true;
  }
  evaluationStopped = false;
}

/**
 * Wires the sound toggle (off by default); returns the announcer of new alarms. While the sound is
 * on, the most urgent unacknowledged alarm (`mostUrgent()`, a priority or null) sounds again every
 * few seconds, as bedside monitors do, until it is acknowledged.
 */
export function alarmAnnouncer(mostUrgent = () => null) {
  const sound = new AlarmSound();
  const toggle = byId("sound-toggle");
  toggle.checked = false;
  toggle.addEventListener("change", () => sound.setEnabled(toggle.checked));
  setInterval(() => {
    const priority = mostUrgent();
    // Unchecked alarms are a technical alarm of the whole screen: the lowest tone, until it is back.
    if (priority) sound.play(priority);
    else if (evaluationStopped) sound.play("low");
  }, REMIND_EVERY_MS);
  return (alarm, where) => {
    // Alarms often come in twos (a limit and NEWS2): the last few are kept so none is talked over.
    const region = byId("alarm-announcer");
    region.append(h("p", {}, `${alarm.priority} priority alarm, ${where}: ${describeAlarm(alarm)}`));
    while (region.children.length > ANNOUNCED) region.firstElementChild.remove();
    sound.play(alarm.priority);
  };
}
