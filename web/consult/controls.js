// The call's controls, shared by the consult pages: mute, camera off and on, the camera and
// microphone pickers, what the other side has turned off, and asking before ending.

import { h, replace } from "../shared/dom.js";

/**
 * Wires `#mute`, `#camera`, `#camera-select` and `#microphone-select` inside `root` to `media` (a
 * LocalMedia); `onError(error)` hears a device that could not be opened. Returns `refresh()`, which
 * shows the current state and device lists again (call it after media.onChange).
 */
export function bindMediaControls(root, media, onError) {
  const mute = root.querySelector("#mute");
  const camera = root.querySelector("#camera");
  const pickers = { video: root.querySelector("#camera-select"), audio: root.querySelector("#microphone-select") };
  const run = (work) => work().catch(onError);
  mute.addEventListener("click", () => media.setMuted(!media.muted));
  camera.addEventListener("click", () => run(() => media.setCameraOff(!media.cameraOff)));
  for (const [kind, select] of Object.entries(pickers)) {
    select.addEventListener("change", () => run(() => media.useDevice(kind, select.value)));
  }
  navigator.mediaDevices?.addEventListener?.("devicechange", () => run(refresh));

  async function refresh() {
    const open = media.isOpen;
    mute.disabled = camera.disabled = !open;
    mute.textContent = media.muted ? "Unmute microphone" : "Mute microphone";
    mute.setAttribute("aria-pressed", String(media.muted));
    camera.textContent = media.cameraOff ? "Turn camera on" : "Turn camera off";
    camera.setAttribute("aria-pressed", String(media.cameraOff));
    if (!open) return;
    const devices = await media.devices();
    for (const [kind, select] of Object.entries(pickers)) {
      const list = devices[kind];
      replace(select, list.map((d, i) => h("option", { value: d.deviceId }, d.label || `${kind === "video" ? "Camera" : "Microphone"} ${i + 1}`)));
      if (media.chosen[kind]) select.value = media.chosen[kind];
      select.disabled = list.length < 2;
    }
  }
  return refresh;
}

/** "· Microphone muted", "· Camera off" or both, after a participant's name; empty when both are on. */
export function mediaStateText(state) {
  const off = [state.audio ? null : "microphone muted", state.video ? null : "camera off"].filter(Boolean).join(" and ");
  return off ? `· ${off[0].toUpperCase()}${off.slice(1)}` : "";
}

/** Opens the <dialog> and resolves with whether its "confirm" button was chosen. */
export function confirmWith(dialog) {
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

/** Brings the call into view and moves the keyboard focus to its heading. */
export function showCall(section, heading) {
  section.hidden = false;
  section.scrollIntoView({ behavior: "smooth", block: "start" });
  heading.setAttribute("tabindex", "-1");
  heading.focus({ preventScroll: true });
}
