// The person's own camera and microphone during a call: mute, camera off and on (the camera is
// released while off, so its light goes out), switching devices, and stopping everything at the end.

const CAMERA = { width: 640, height: 480 };
const REASONS = {
  NotAllowedError: "Access to the camera and microphone was refused. Allow it in the browser's address bar.",
  NotFoundError: "No camera or microphone was found. Connect one and try again.",
  NotReadableError: "The camera or microphone is in use by another application. Close it and try again.",
  OverconstrainedError: "That camera or microphone is no longer available. Choose another one.",
};

/** getUserMedia, or an Error whose message says what the person can do about it. */
async function capture(constraints) {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new Error("This browser cannot use a camera here. Use a recent Chrome, Edge, Firefox or Safari.");
  }
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (error) {
    throw new Error(REASONS[error.name] ?? `The camera or microphone could not be opened (${error.name}).`);
  }
}

export class LocalMedia {
  /** `onTrack(kind, track)` when a track is replaced (null: camera off); `onChange()` after any change. */
  constructor({ onTrack = () => {}, onChange = () => {} } = {}) {
    this.stream = new MediaStream();
    this.muted = false;
    this.cameraOff = false;
    this.chosen = { audio: null, video: null }; // device ids
    this.onTrack = onTrack;
    this.onChange = onChange;
  }

  get isOpen() {
    return this.stream.getTracks().length > 0 || this.cameraOff;
  }

  /** Turns on the camera and microphone (once; later calls keep what is open). */
  async open() {
    if (this.isOpen) return this.stream;
    const opened = await capture({ audio: true, video: CAMERA });
    for (const track of opened.getTracks()) this.adopt(track);
    this.onChange();
    return this.stream;
  }

  track(kind) {
    return this.stream.getTracks().find((track) => track.kind === kind) ?? null;
  }

  /** The microphone stays open but sends silence: unmuting is instant. */
  setMuted(muted) {
    this.muted = muted;
    const audio = this.track("audio");
    if (audio) audio.enabled = !muted;
    this.onChange();
  }

  /** Off releases the camera; on opens it again (the chosen one). */
  async setCameraOff(off) {
    if (off === this.cameraOff) return;
    if (off) {
      this.drop("video");
      this.cameraOff = true;
      this.onTrack("video", null);
    } else {
      const track = await this.captureOne("video");
      this.cameraOff = false;
      this.onTrack("video", track);
    }
    this.onChange();
  }

  /** Switches to another camera or microphone; a camera that is off just remembers the choice. */
  async useDevice(kind, deviceId) {
    this.chosen[kind] = deviceId;
    if (kind === "video" && this.cameraOff) return;
    const track = await this.captureOne(kind);
    this.onTrack(kind, track);
    this.onChange();
  }

  /** Cameras and microphones, once the browser has allowed them (their labels are hidden before). */
  async devices() {
    const all = await navigator.mediaDevices.enumerateDevices();
    return {
      video: all.filter((d) => d.kind === "videoinput"),
      audio: all.filter((d) => d.kind === "audioinput"),
    };
  }

  /** Stops every track: the camera's light goes off and the microphone is released. */
  stop() {
    for (const track of this.stream.getTracks()) {
      track.stop();
      this.stream.removeTrack(track);
    }
    this.cameraOff = false;
    this.muted = false;
    this.onChange();
  }

  async captureOne(kind) {
    const device = this.chosen[kind] ? { deviceId: { exact: this.chosen[kind] } } : {};
    const constraints = kind === "video" ? { video: { ...CAMERA, ...device } } : { audio: device.deviceId ? device : true };
    const [track] = (await capture(constraints)).getTracks();
    this.drop(kind);
    this.adopt(track);
    return track;
  }

  adopt(track) {
    if (track.kind === "audio") track.enabled = !this.muted;
    this.chosen[track.kind] = track.getSettings().deviceId ?? this.chosen[track.kind];
    this.stream.addTrack(track);
  }

  drop(kind) {
    const old = this.track(kind);
    if (!old) return;
    old.stop();
    this.stream.removeTrack(old);
  }
}
