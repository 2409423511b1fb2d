// The nurses' ward dashboard: pick a ward, then watch every bed live (see ward-view.js). The ward
// chosen is kept in the address (?ward=...), so a wall screen can be bookmarked to its ward.

import { api } from "../shared/api.js";
import { showError } from "../shared/alerts.js";
import { requireUser } from "../shared/auth.js";
import { byId, h, replace } from "../shared/dom.js";
import { renderLayout } from "../shared/layout.js";
import { alarmAnnouncer } from "./live-status.js";
import { WardView } from "./ward-view.js";

let view = null;

function watch(wardId, announce) {
  view?.stop();
  view = null;
  replace(byId("messages"));
  const url = new URL(window.location.href);
  if (wardId) url.searchParams.set("ward", wardId);
  else url.searchParams.delete("ward");
  window.history.replaceState(null, "", url);
  if (!wardId) {
    replace(byId("ward-grid"), h("p", { class: "empty" }, "Choose a ward to watch."));
    return;
  }
  view = new WardView({ wardId, grid: byId("ward-grid"), messages: byId("messages"), announce });
  view.start();
}

async function loadWards(select) {
  try {
    const wards = await api("/api/v1/wards");
    // A first choice in words, shown when no ward (or one the list does not hold, as from an old bookmark) is picked.
    select.append(
      h("option", { value: "" }, "Choose a ward…"),
      ...wards.filter((w) => w.active).map((w) => h("option", { value: w.id }, `${w.name} (${w.code})`)),
    );
    return wards;
  } catch (error) {
    showError(byId("messages"), error);
    return [];
  }
}

async function main() {
  // Every role may open the page; the server decides who may watch a ward, and the page says so.
  const user = await requireUser(["admin", "clinician", "nurse", "patient"]);
  if (!user) return;
  renderLayout(user);
  const announce = alarmAnnouncer(() => view?.mostUrgent() ?? null);
  const select = byId("ward-select");
  const wards = await loadWards(select);
  const asked = new URL(window.location.href).searchParams.get("ward");
  const wardId = asked ?? (wards.length === 1 ? wards[0].id : "");
  select.value = wards.some((w) => w.id === wardId) ? wardId : "";
  select.addEventListener("change", () => watch(select.value, announce));
  byId("ward-form").addEventListener("submit", (event) => event.preventDefault());
  if (wardId) watch(wardId, announce);
  else replace(byId("ward-grid"), h("p", { class: "empty" }, "Choose a ward to watch."));
}

main().catch((error) => showError(byId("messages"), error));
