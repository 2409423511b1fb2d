// The panels a device's actions open: the new secret (shown once), placing it at a bed, and the reason
// for taking it out of service or revoking it. Each calls `done(device, notice)` after the change.

import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { act, field, onSubmit } from "./ui.js";

function panelCard(id, title, ...children) {
  return h("section", { class: "card", "aria-labelledby": id, id: `${id}-card` }, h("h2", { id }, title), ...children);
}

/** Issues (or rotates) the secret and shows it once. */
export async function secretPanel(panel, device, done) {
  const issued = await api(`/api/v1/devices/${device.id}/credentials`, { method: "POST" });
  replace(panel, panelCard("secret-title", `Secret for ${issued.device_id}`,
    h("p", { role: "status" }, "Store it on the device now: it is shown only once and cannot be read again."),
    h("dl", {},
      h("dt", {}, "MQTT username"), h("dd", { class: "secret" }, issued.username),
      h("dt", {}, "MQTT password"), h("dd", { class: "secret", id: "device-secret" }, issued.secret),
      h("dt", {}, "Topic prefix"), h("dd", { class: "secret" }, issued.topic_prefix)),
    issued.broker_updated ? null : h("p", { class: "meta" }, "This platform does not administer the broker; add the account there."),
    h("button", { type: "button", onclick: () => replace(panel) }, "I have stored it")));
  done(await api(`/api/v1/devices/${device.id}`), null);
}

/** A ward and bed picker that places the device at the bed; `bedLabels` learns the labels it loads. */
export function bindPanel(panel, device, { wards, bedLabels, messages, done }) {
  const bedSelect = h("select", { name: "bed_id", required: true });
  const wardSelect = h("select", { name: "ward_id", required: true },
    h("option", { value: "" }, "Choose a ward"),
    wards.filter((w) => w.active).map((w) => h("option", { value: w.id }, `${w.name} (${w.code})`)));
  wardSelect.addEventListener("change", () => act(messages, async () => {
    const beds = wardSelect.value ? await api(`/api/v1/wards/${wardSelect.value}/beds`) : [];
    beds.forEach((b) => bedLabels.set(b.id, b.label));
    replace(bedSelect, beds.map((b) => h("option", { value: b.id }, b.label)));
  }));
  const form = h("form", { class: "row", id: "bind-form" },
    h("label", {}, "Ward", wardSelect), h("label", {}, "Bed", bedSelect), h("button", { type: "submit" }, "Place device"));
  onSubmit(form, messages, async ({ bed_id }) => {
    await api(`/api/v1/devices/${device.id}/bindings`, { method: "POST", json: { bed_id } });
    replace(panel);
    done(await api(`/api/v1/devices/${device.id}`));
    return `${device.device_id} is placed at bed ${bedLabels.get(bed_id) ?? ""}.`;
  });
  replace(panel, panelCard("bind-title", `Place ${device.device_id} at a bed`,
    h("p", { class: "meta" }, "Binding a device to a patient is done by the nurse or clinician at the bedside."), form));
  wardSelect.focus();
}

/** Asks for the reason, then deactivates (`change` "deactivate") or revokes ("revoke") the device. */
export function statusPanel(panel, device, change, { messages, done }) {
  const label = change === "revoke" ? "Revoke" : "Take out of service";
  const form = h("form", { class: "row", id: "status-form" },
    field(`Reason to ${label.toLowerCase()} ${device.device_id}`, { name: "reason", required: true, maxlength: 200 }),
    h("button", { type: "submit", class: change === "revoke" ? "button-danger" : null }, label),
    h("button", { type: "button", class: "button-quiet", onclick: () => replace(panel) }, "Cancel"));
  onSubmit(form, messages, async ({ reason }) => {
    done(await api(`/api/v1/devices/${device.id}/${change}`, { method: "POST", json: { reason } }));
    replace(panel);
    return change === "revoke"
      ? `${device.device_id} is revoked: its secret no longer works.`
      : `${device.device_id} is out of service.`;
  });
  replace(panel, panelCard("status-title", `${label}: ${device.device_id}`, form));
  form.querySelector("input").focus();
}
