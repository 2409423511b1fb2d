// Devices: register, issue a secret (shown once), place at a bed, end a binding, take out of service,
// revoke. Binding a device to a patient is a clinical act done by nurses and clinicians.

import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";
import { act, card, choice, field, onSubmit, query, table } from "./ui.js";

const KINDS = [
  ["bedside_monitor", "Bedside monitor"], ["pulse_oximeter", "Pulse oximeter"], ["bp_cuff", "Blood-pressure cuff"],
  ["thermometer", "Thermometer"], ["scale", "Scale"], ["wearable", "Wearable"], ["gateway", "Gateway"],
];

export async function render(container, { messages }) {
  const list = h("div", { id: "devices" });
  const more = h("button", { type: "button", class: "button-quiet", hidden: true }, "More devices");
  const panel = h("div", { id: "device-panel", "aria-live": "polite" });
  const register = h(
    "form",
    { class: "stack", id: "device-form" },
    h("div", { class: "row" },
      field("Device id", { name: "device_id", required: true, maxlength: 64, pattern: "[A-Za-z0-9][A-Za-z0-9._:\\-]*", title: "Letters, digits, dot, dash, colon, underscore" }),
      choice("Kind", { name: "kind", required: true }, KINDS),
      field("Manufacturer", { name: "manufacturer", required: true }),
    ),
    h("div", { class: "row" },
      field("Model", { name: "model", required: true }),
      field("Serial number", { name: "serial", required: true }),
      field("Firmware (optional)", { name: "firmware" }),
    ),
    h("div", {}, h("button", { type: "submit" }, "Register device")),
  );
  replace(container, card("new-device-title", "Register a device", register), panel, card("devices-title", "Devices", list, more));

  let rows = [];
  let after = null;
  let wards = [];
  const bedLabels = new Map();
  const draw = () =>
    replace(list, table({
      id: "devices-table",
      caption: "Registered devices by device id",
      columns: ["Device id", "Kind", "Model", "Status", "Secret issued", "Bound to", "Actions"],
      empty: "No devices registered yet.",
      rows: rows.map((d) => ({ attrs: { "data-device-id": d.device_id }, cells: [
        d.device_id, d.kind.replaceAll("_", " "), `${d.manufacturer} ${d.model}`, d.status + (d.status_reason ? ` (${d.status_reason})` : ""),
        d.credential_issued_at ? formatDateTime(d.credential_issued_at) : "Never", boundTo(d.current_binding), actions(d)] })),
    }));
  const boundTo = (binding) => {
    if (!binding) return "Not bound";
    const ward = wards.find((w) => w.id === binding.ward_id);
    const parts = [];
    if (binding.bed_id) parts.push(bedLabels.has(binding.bed_id) ? `bed ${bedLabels.get(binding.bed_id)}` : "a bed");
    if (ward) parts.push(`ward ${ward.code}`);
    if (binding.patient_id) parts.push("a patient");
    return parts.join(", ") || "bound";
  };
  const replaceRow = (device) => {
    rows = [device, ...rows.filter((row) => row.id !== device.id)];
    draw();
  };
  const actions = (d) => h("div", { class: "actions" },
    h("button", { type: "button", class: "button-quiet", onclick: () => act(messages, () => issueSecret(d)) }, d.credential_issued_at ? "Rotate secret" : "Issue secret"),
    d.status === "active" && !d.current_binding ? h("button", { type: "button", class: "button-quiet", onclick: () => showBind(d) }, "Place at a bed") : null,
    d.current_binding && !d.current_binding.patient_id ? h("button", { type: "button", class: "button-quiet", onclick: () => act(messages, () => endBinding(d)) }, "End binding") : null,
    d.status === "active" ? h("button", { type: "button", class: "button-quiet", onclick: () => showStatus(d, "deactivate") }, "Take out of service") : null,
    d.status === "deactivated" ? h("button", { type: "button", class: "button-quiet", onclick: () => act(messages, () => activate(d)) }, "Return to service") : null,
    d.status !== "revoked" ? h("button", { type: "button", class: "button-danger", onclick: () => showStatus(d, "revoke") }, "Revoke") : null,
  );

  const issueSecret = async (d) => {
    const issued = await api(`/api/v1/devices/${d.id}/credentials`, { method: "POST" });
    replace(panel, h("section", { class: "card", "aria-labelledby": "secret-title", id: "secret-card" },
      h("h2", { id: "secret-title" }, `Secret for ${issued.device_id}`),
      h("p", { role: "status" }, "Store it on the device now: it is shown only once and cannot be read again."),
      h("dl", {},
        h("dt", {}, "MQTT username"), h("dd", { class: "secret" }, issued.username),
        h("dt", {}, "MQTT password"), h("dd", { class: "secret", id: "device-secret" }, issued.secret),
        h("dt", {}, "Topic prefix"), h("dd", { class: "secret" }, issued.topic_prefix)),
      issued.broker_updated ? null : h("p", { class: "meta" }, "This platform does not administer the broker; add the account there."),
      h("button", { type: "button", onclick: () => replace(panel) }, "I have stored it")));
    replaceRow(await api(`/api/v1/devices/${d.id}`));
  };
  const showBind = (d) => {
    const bedSelect = h("select", { name: "bed_id", required: true });
    const wardSelect = h("select", { name: "ward_id", required: true, onchange: () => loadBeds() },
      h("option", { value: "" }, "Choose a ward"), wards.filter((w) => w.active).map((w) => h("option", { value: w.id }, `${w.name} (${w.code})`)));
    const loadBeds = () => act(messages, async () => {
      const beds = wardSelect.value ? await api(`/api/v1/wards/${wardSelect.value}/beds`) : [];
      beds.forEach((b) => bedLabels.set(b.id, b.label));
      replace(bedSelect, beds.map((b) => h("option", { value: b.id }, b.label)));
    });
    const form = h("form", { class: "row", id: "bind-form" }, h("label", {}, "Ward", wardSelect), h("label", {}, "Bed", bedSelect), h("button", { type: "submit" }, "Place device"));
    onSubmit(form, messages, async ({ bed_id }) => {
      await api(`/api/v1/devices/${d.id}/bindings`, { method: "POST", json: { bed_id } });
      replace(panel);
      replaceRow(await api(`/api/v1/devices/${d.id}`));
      return `${d.device_id} is placed at bed ${bedSelect.selectedOptions[0]?.textContent ?? ""}.`;
    });
    replace(panel, h("section", { class: "card", "aria-labelledby": "bind-title" }, h("h2", { id: "bind-title" }, `Place ${d.device_id} at a bed`),
      h("p", { class: "meta" }, "Binding a device to a patient is done by the nurse or clinician at the bedside."), form));
    wardSelect.focus();
  };
  const endBinding = async (d) => {
    await api(`/api/v1/bindings/${d.current_binding.id}/end`, { method: "POST", json: { reason: "unbound" } });
    replaceRow(await api(`/api/v1/devices/${d.id}`));
    return `${d.device_id} is no longer bound.`;
  };
  const activate = async (d) => {
    replaceRow(await api(`/api/v1/devices/${d.id}/activate`, { method: "POST" }));
    return `${d.device_id} is back in service.`;
  };
  const showStatus = (d, change) => {
    const label = change === "revoke" ? "Revoke" : "Take out of service";
    const form = h("form", { class: "row", id: "status-form" }, field(`Reason to ${label.toLowerCase()} ${d.device_id}`, { name: "reason", required: true, maxlength: 200 }), h("button", { type: "submit", class: change === "revoke" ? "button-danger" : null }, label), h("button", { type: "button", class: "button-quiet", onclick: () => replace(panel) }, "Cancel"));
    onSubmit(form, messages, async ({ reason }) => {
      replaceRow(await api(`/api/v1/devices/${d.id}/${change}`, { method: "POST", json: { reason } }));
      replace(panel);
      return change === "revoke" ? `${d.device_id} is revoked: its secret no longer works.` : `${d.device_id} is out of service.`;
    });
    replace(panel, h("section", { class: "card", "aria-labelledby": "status-title" }, h("h2", { id: "status-title" }, `${label}: ${d.device_id}`), form));
    form.querySelector("input").focus();
  };

  const load = async (reset) => {
    if (reset) { rows = []; after = null; }
    const page = await api(`/api/v1/devices${query({ after, limit: 50 })}`);
    rows = rows.concat(page.items);
    after = page.next_cursor;
    more.hidden = !after;
    draw();
  };
  more.addEventListener("click", () => act(messages, () => load(false)));
  onSubmit(register, messages, async (data) => {
    const created = await api("/api/v1/devices", { method: "POST", json: data });
    register.reset();
    // The list runs by device id; the new device goes on top so it can be set up at once.
    replaceRow(created);
    return `Device ${created.device_id} registered. Issue its secret next.`;
  });
  wards = await api("/api/v1/wards");
  await load(true);
}
