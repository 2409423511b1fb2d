// The optional alarm tone, off until the user turns it on: synthesised with WebAudio (no audio
// files). Browsers only allow sound after a user gesture, which the toggle provides.

// Tones loosely after IEC 60601-1-8: high priority is a fast burst, medium a slower triple, low one tone.
const PATTERNS = {
  high: { frequency: 880, beeps: 5, gapS: 0.12 },
  medium: { frequency: 660, beeps: 3, gapS: 0.25 },
  low: { frequency: 520, beeps: 1, gapS: 0.3 },
};
const BEEP_S = 0.1;
const VOLUME = 0.2;

export class AlarmSound {
  constructor() {
    this.context = null;
    this.enabled = false;
  }

  /** Turns the sound on or off; turning it on (a click) creates the audio context. */
  setEnabled(enabled) {
    this.enabled = enabled;
    if (enabled && !this.context) this.context = new AudioContext();
    if (enabled) this.context.resume();
  }

  /** Plays the pattern of `priority` once, if the sound is on. */
  play(priority) {
    if (!this.enabled || !this.context) return;
    const pattern = PATTERNS[priority] ?? PATTERNS.low;
    const start = this.context.currentTime;
    for (let n = 0; n < pattern.beeps; n += 1) {
      const at = start + n * (BEEP_S + pattern.gapS);
      const oscillator = this.context.createOscillator();
      const gain = this.context.createGain();
      oscillator.frequency.value = pattern.frequency;
      gain.gain.setValueAtTime(VOLUME, at);
      gain.gain.exponentialRampToValueAtTime(0.001, at + BEEP_S);
      oscillator.connect(gain).connect(this.context.destination);
      oscillator.start(at);
      oscillator.stop(at + BEEP_S);
    }
  }
}
