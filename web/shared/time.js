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
