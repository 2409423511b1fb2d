// The connection line both live pages show, and the alarm announcement for screen readers and ears.

import { byId, h } from "../shared/dom.js";
import { AlarmSound } from "../shared/alarm-sound.js";
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
    if (priority) sound.play(priority);
  }, REMIND_EVERY_MS);
  return (alarm, where) => {
    // Alarms often come in twos (a limit and NEWS2): the last few are kept so none is talked over.
    const region = byId("alarm-announcer");
    region.append(h("p", {}, `${alarm.priority} priority alarm, ${where}: ${describeAlarm(alarm)}`));
    while (region.children.length > ANNOUNCED) region.firstElementChild.remove();
    sound.play(alarm.priority);
  };
}
