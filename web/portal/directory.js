// Practitioners and appointment types, loaded once per page and shared by the portal's sections.

import { api } from "../shared/api.js";

const PAGE = 100;
// A hospital's whole staff list, at most: beyond this the booking form would be unusable anyway.
const MAX_PAGES = 50;
let practitioners = null;
let types = null;

async function loadPractitioners() {
  const all = new Map();
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const rows = await api(`/api/v1/practitioners?limit=${PAGE}&offset=${page * PAGE}`);
    rows.forEach((p) => all.set(p.id, p));
    if (rows.length < PAGE) break;
  }
  return all;
}

/** Active practitioners by id (name, specialties), every page of them. */
export async function practitionerDirectory() {
  practitioners ??= loadPractitioners();
  return practitioners;
}

/** The active appointment types. */
export async function appointmentTypes() {
  types ??= api("/api/v1/appointment-types");
  return types;
}

/** "Dr Ada Lovelace" for a practitioner id (or a neutral label when unknown). */
export function practitionerName(directory, id) {
  const p = directory.get(id);
  if (!p) return "Practitioner";
  return [p.prefix, p.given_name, p.family_name].filter(Boolean).join(" ");
}
