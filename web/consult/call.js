// The call section shared by the consult pages (patient, clinician, guest): the camera and its
// controls, the other participants' videos and what they have turned off, waiting for the room to
// open, reconnecting after a dropped connection, the chat, and a clear end in which every track is
// stopped and every connection closed.
//
// Pages provide the markup (ids below, see patient.html) and hooks for what is theirs (consent,
// admission, notes); the CallView owns the ConsultRoom and the LocalMedia.

import { showError } from "../shared/alerts.js";
import { byId, h, replace } from "../shared/dom.js";
import { durationInWords, formatTime } from "../shared/time.js";
import { showChatLine } from "./chat.js";
import { bindMediaControls, confirmWith, mediaStateText, showCall } from "./controls.js";
import { LocalMedia } from "./local-media.js";
import { showReceiving } from "./media.js";
import { ConsultRoom } from "./room.js";

const COUNTDOWN_MS = 15_000;
const CLOSED_BECAUSE = {
  4401: "You are no longer signed in to this consultation.",
  4403: "You were removed from the consultation.",
  4409: "You joined from another window or tab; this one was disconnected.",
  4410: "The consultation has ended.",
};

export class CallView {
  /** `hooks`: ConsultRoom handlers of the page, called after the view's own (see room.js). */
  constructor({ hooks = {}, roomOptions = {} } = {}) {
    this.hooks = hooks;
    this.roomOptions = roomOptions;
    this.room = null;
    this.media = new LocalMedia({
      onTrack: (kind, track) => this.room?.replaceTrack(kind, track),
      onChange: () => this.mediaChanged(),
    });
    this.refreshControls = bindMediaControls(byId("controls"), this.media, (error) => this.error(error));
    this.refreshControls();
  }

  error(error) {
    showError(byId("messages"), error);
  }

  /** Shows the call section with `title`, scrolled into view and focused, in a fresh state. */
  open(title) {
    this.stopWaiting();
    byId("call-title").textContent = title;
    byId("ended").hidden = true;
    byId("in-call").hidden = false;
    byId("chat-closed").hidden = true;
    byId("leave").hidden = false;
    replace(byId("chat"));
    this.setChat(false);
    showCall(byId("call"), byId("call-title"));
  }

  status(text) {
    byId("call-status").textContent = text;
  }

  /** Waits for the room to open at `opensAt` (by `untilMs()`), counting down in words, then `then()`. */
  waitFor(opensAt, untilMs, text, then) {
    this.stopWaiting();
    byId("waiting-state").hidden = false;
    byId("in-call").hidden = true;
    byId("chat-area").hidden = true;
    const tick = () => {
      const left = untilMs();
      if (left <= 0) {
        this.stopWaiting();
        then();
        return;
      }
      this.status(text(durationInWords(left)));
      byId("waiting-text").textContent = `The room opens at ${formatTime(opensAt)}, in ${durationInWords(left)}. This page opens it by itself: keep it open.`;
      this.waiting = setTimeout(tick, Math.min(COUNTDOWN_MS, left));
    };
    tick();
  }

  stopWaiting() {
    clearTimeout(this.waiting);
    this.waiting = null;
    byId("waiting-state").hidden = true;
    byId("chat-area").hidden = false;
  }

  /** Turns the camera on (if it is not) and enters the room. */
  async connect(roomId) {
    byId("in-call").hidden = false;
    await this.media.open();
    byId("self").srcObject = this.media.stream;
    this.room?.close();
    const room = new ConsultRoom(roomId, this.media, this.handlers(), this.roomOptions);
    this.room = room;
    this.stopReceiving?.();
    this.stopReceiving = showReceiving(byId("receiving"), () => room.connections());
    this.status("Connecting…");
    await room.connect();
  }

  handlers() {
    const hook = (name, ...args) => this.hooks[name]?.(...args);
    return {
      onJoined: (me, message) => hook("onJoined", me, message),
      onWaiting: (list) => hook("onWaiting", list),
      onAdmitted: () => {
        this.setChat(true);
        hook("onAdmitted");
      },
      onRemoteStream: (id, stream, info) => {
        this.remoteFigure(id, info).querySelector("video").srcObject = stream;
        hook("onRemoteStream", id, stream, info);
      },
      onPeerMedia: (id, state, info) => {
        const figure = this.remoteFigure(id, info);
        figure.querySelector(".peer-state").textContent = mediaStateText(state);
        // The last frame would stay on screen: a camera turned off shows as off.
        figure.dataset.cameraOff = String(!state.video);
      },
      onPeerLeft: (id, reason, info) => {
        this.figureOf(id)?.remove();
        hook("onPeerLeft", id, reason, info);
      },
      onChat: (line) => showChatLine(byId("chat"), line, this.room?.me?.id),
      onEnded: (reason) => this.finish(reason === "removed" ? CLOSED_BECAUSE[4403] : CLOSED_BECAUSE[4410]),
      onError: (detail, message) => {
        if (hook("onError", detail, message)) return;
        this.error(new Error(detail));
      },
      onReconnecting: (delayMs) => {
        this.clearRemotes();
        this.setChat(false);
        this.status(`The connection was lost. Reconnecting in ${Math.max(1, Math.round(delayMs / 1000))} s…`);
      },
      onClosed: (code) => this.finish(CLOSED_BECAUSE[code] ?? "The connection was closed.", { canRejoin: code !== 4403 && code !== 4410 }),
    };
  }

  /** Leaves after asking; the others stay in the room. */
  async leave(dialog) {
    if (!(await confirmWith(dialog))) return;
    this.room?.leave();
    this.finish("You left the consultation.", { canRejoin: true });
  }

  /**
   * Ends this page's part: every track stopped (the camera's light goes off), every connection
   * closed, the chat closed, and `text` saying so. `canRejoin` offers "Join again".
   */
  finish(text, { canRejoin = false } = {}) {
    this.stopWaiting();
    this.room?.close();
    this.room = null;
    this.media.stop();
    this.stopReceiving?.();
    this.stopReceiving = null;
    for (const video of document.querySelectorAll("video")) video.srcObject = null;
    this.clearRemotes();
    byId("receiving").textContent = "";
    byId("chat-closed").hidden = false;
    this.setChat(false);
    byId("in-call").hidden = true;
    byId("ended").hidden = false;
    byId("join-again").hidden = !canRejoin;
    this.status(text);
    this.hooks.onFinished?.(text);
  }

  setChat(enabled) {
    const form = byId("chat-form");
    for (const control of form.elements) control.disabled = !enabled;
    form.hidden = !byId("chat-closed").hidden;
  }

  mediaChanged() {
    byId("self").srcObject = this.media.isOpen ? this.media.stream : null;
    byId("self-state").textContent = mediaStateText({ audio: !this.media.muted, video: !this.media.cameraOff });
    this.room?.sendMediaState();
    this.refreshControls().catch((error) => this.error(error));
    this.hooks.onMediaChanged?.();
  }

  figureOf(id) {
    return byId("videos").querySelector(`[data-participant-id="${CSS.escape(id)}"]`);
  }

  /** The figure of a participant: one per person, made on their first track (audio and video share it). */
  remoteFigure(id, info) {
    let figure = this.figureOf(id);
    if (!figure) {
      figure = h(
        "figure",
        { dataset: { participantId: id } },
        h("video", { autoplay: true, playsinline: true }),
        h("figcaption", {}, info?.display_name ?? "Participant", " ", h("span", { class: "meta peer-state" })),
      );
      byId("videos").prepend(figure);
    }
    return figure;
  }

  clearRemotes() {
    for (const figure of byId("videos").querySelectorAll("[data-participant-id]")) {
      figure.querySelector("video").srcObject = null;
      figure.remove();
    }
  }
}
