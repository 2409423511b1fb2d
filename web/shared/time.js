// Times from the API are UTC instants with offsets; people see them in their browser's time zone,
// with the zone named so that nobody has to guess.

export function browserTimeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZoneName: "short",
});
const dateFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });

/** "Tue, 4 Mar 2025, 09:30 CET" in the browser's zone. */
export function formatDateTime(iso) {
  return iso ? dateTimeFormat.format(new Date(iso)) : "";
}

/** A calendar date ("2025-03-04") shown as is: it has no zone to convert. */
export function formatDate(isoDate) {
  if (!isoDate) return "";
  const [year, month, day] = isoDate.slice(0, 10).split("-").map(Number);
  return dateFormat.format(new Date(year, month - 1, day));
}

/** The value for an <input type="date"> `days` from today, in the browser's zone. */
export function dateInputValue(days = 0) {
  const date = new Date();
  date.setDate(date.getDate() + days);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The instant a local date starts (or, with `endOfDay`, the next day starts), with its offset. */
export function localDayBoundary(dateValue, endOfDay = false) {
  const [year, month, day] = dateValue.split("-").map(Number);
  const local = new Date(year, month - 1, day + (endOfDay ? 1 : 0), 0, 0, 0);
  return local.toISOString();
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", year: "numeric", month: "long", day: "numeric" });
const zoneNameFormat = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" });

/** "09:30" in the browser's zone (say which zone once on the page: see `zoneNote`). */
export function formatTime(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "";
}

/** "Monday, 7 December 2026" for a local date value ("2026-12-07"). */
export function formatLongDate(dateValue) {
  const [year, month, day] = dateValue.split("-").map(Number);
  return dayFormat.format(new Date(year, month - 1, day));
}

/** "Europe/Paris (CET)": the browser's zone by name and abbreviation. */
export function zoneLabel() {
  const short = zoneNameFormat.formatToParts(new Date()).find((part) => part.type === "timeZoneName")?.value;
  const zone = browserTimeZone();
  return short && short !== zone ? `${zone} (${short})` : zone;
}

/** "Times are in Europe/Paris (CET)." */
export function zoneNote() {
  return `Times are in ${zoneLabel()}.`;
}

/** Whole years of age on today's local date for a birth date ("1986-07-22"), or null. */
export function ageInYears(birthDate) {
  if (!birthDate) return null;
  const [year, month, day] = birthDate.split("-").map(Number);
  const today = new Date();
  let age = today.getFullYear() - year;
  if (today.getMonth() + 1 < month || (today.getMonth() + 1 === month && today.getDate() < day)) age -= 1;
  return age;
}

const shortDayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
const DAY_MS = 86_400_000;

/** The local calendar day of an instant, as "YYYY-MM-DD" (for grouping by day). */
export function localDayKey(iso) {
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** "today", "tomorrow" or "Tue 9 Dec": the local day of `iso`, as people say it. */
export function dayInWords(iso, now = Date.now()) {
  const days = Math.round((new Date(`${localDayKey(iso)}T00:00`) - new Date(`${localDayKey(new Date(now).toISOString())}T00:00`)) / DAY_MS);
  if (days === 0) return "today";
  if (days === 1) return "tomorrow";
  if (days === -1) return "yesterday";
  return shortDayFormat.format(new Date(iso));
}

/** "today at 14:30", "tomorrow at 09:00", "Tue 9 Dec at 14:30". */
export function momentInWords(iso, now = Date.now()) {
  return `${dayInWords(iso, now)} at ${formatTime(iso)}`;
}

/** A span of time as people say it: "1 minute", "25 minutes", "1 hour 5 minutes", "3 days". */
export function durationInWords(ms) {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (minutes < 60) return plural(minutes, "minute");
  if (minutes < 24 * 60) {
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    return rest ? `${plural(hours, "hour")} ${plural(rest, "minute")}` : plural(hours, "hour");
  }
  return plural(Math.round(minutes / (24 * 60)), "day");
}
