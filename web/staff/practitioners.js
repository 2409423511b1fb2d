// The organisation's practitioners by id (names for notes, orders and appointments), loaded once.

import { api } from "../shared/api.js";

const PAGE = 100; // the API's largest page
let loaded = null;

async function everyPractitioner() {
  const all = [];
  for (let offset = 0; ; offset += PAGE) {
    const rows = await api(`/api/v1/practitioners?include_inactive=true&limit=${PAGE}&offset=${offset}`);
    all.push(...rows);
    if (rows.length < PAGE) return all;
  }
}

/** Map of practitioner id -> practitioner, with `name` ("Dr Casey Morgan") added. */
export function loadPractitioners() {
  loaded ??= everyPractitioner().then(
    (rows) => new Map(rows.map((p) => [p.id, { ...p, name: [p.prefix, p.given_name, p.family_name].filter(Boolean).join(" ") }])),
  );
  return loaded;
}

/** The practitioner record of a signed-in user, or undefined. */
export function practitionerOfUser(practitioners, userId) {
  return [...practitioners.values()].find((p) => p.user_id === userId);
}

/** Who a user id is, for authors and uploaders: their practitioner name, or "a member of staff". */
export function nameOfUser(practitioners, userId) {
  return practitionerOfUser(practitioners, userId)?.name ?? "a member of staff";
}
