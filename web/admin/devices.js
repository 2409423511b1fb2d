// Devices: register, issue a secret (shown once), place at a bed, end a binding, take out of service,
// revoke. Binding a device to a patient is a clinical act done by nurses and clinicians.

import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";
import { bindPanel, secretPanel, statusPanel } from "./device_panels.js";
import { act, card, choice, field, onSubmit, query, table } from "./ui.js";

const KINDS = [
  ["bedside_monitor", "Bedside monitor"], ["pulse_oximeter", "Pulse oximeter"], ["bp_cuff", "Blood-pressure cuff"],
  ["thermometer", "Thermometer"], ["scale", "Scale"], ["wearable", "Wearable"], ["gateway", "Gateway"],
];

function registerForm() {
  return h(
    "form",
    { class: "stack", id: "device-form" },
    h("div", { class: "row" },
      field("Device id", { name: "device_id", required: true, maxlength: 64 }),
      choice("Kind", { name: "kind", required: true }, KINDS),
      field("Manufacturer", { name: "manufacturer", required: true }),
    ),
    h("div", { class: "row" },
      field("Model", { name: "model", required: true }),
      field("Serial number", { name: "serial", required: true }),
      field("Firmware (optional)", { name: "firmware" }),
    ),
    h("div", { class: "row" },
      field("EUI-64 (optional)", { name: "eui64", maxlength: 23, placeholder: "00-1B-C5-FF-FE-0A-12-34" }),
      field("UDI (optional)", { name: "udi", maxlength: 200, placeholder: "(01)00643169007222(21)BLC200461H" }),
    ),
    h("div", {}, h("button", { type: "submit" }, "Register device")),
  );
}

/** 001BC5FFFE0A1234 as 00-1B-C5-FF-FE-0A-12-34, the way labels and IEEE 11073 tools print it. */
function dashed(eui64) {
  return eui64.match(/../g).join("-");
}

// The device's standard identifiers, one per line: what biomedical engineering checks against the label.
function identifiers(d) {
  const line = (label, value) => h("div", {}, h("span", { class: "meta" }, `${label} `), value);
  return h("div", { class: "identifiers" },
    line("Serial", d.serial),
    d.eui64 ? line("EUI-64", dashed(d.eui64)) : null,
    d.udi ? line("UDI", d.udi) : null);
}

function boundTo(binding, state) {
  if (!binding) return "Not bound";
  const ward = state.wards.find((w) => w.id === binding.ward_id);
  const parts = [];
  if (binding.bed_id) parts.push(state.bedLabels.has(binding.bed_id) ? `bed ${state.bedLabels.get(binding.bed_id)}` : "a bed");
  if (ward) parts.push(`ward ${ward.code}`);
  if (binding.patient_id) parts.push("a patient");
  return parts.join(", ") || "bound";
}

function actions(d, state) {
  const { messages, panel, show } = state;
  const options = { ...state, done: show };
  const button = (label, onclick, danger = false) => h("button", { type: "button", class: danger ? "button-danger" : "button-quiet", onclick }, label);
  return h("div", { class: "actions" },
    button(d.credential_issued_at ? "Rotate secret" : "Issue secret", () => act(messages, () => secretPanel(panel, d, show))),
    d.status === "active" && !d.current_binding ? button("Place at a bed", () => bindPanel(panel, d, options)) : null,
    d.current_binding && !d.current_binding.patient_id ? button("End binding", () => act(messages, async () => {
      await api(`/api/v1/bindings/${d.current_binding.id}/end`, { method: "POST", json: { reason: "unbound" } });
      show(await api(`/api/v1/devices/${d.id}`));
      return `${d.device_id} is no longer bound.`;
    })) : null,
    d.status === "active" ? button("Take out of service", () => statusPanel(panel, d, "deactivate", options)) : null,
    d.status === "deactivated" ? button("Return to service", () => act(messages, async () => {
      show(await api(`/api/v1/devices/${d.id}/activate`, { method: "POST" }));
      return `${d.device_id} is back in service.`;
    })) : null,
    d.status !== "revoked" ? button("Revoke", () => statusPanel(panel, d, "revoke", options), true) : null,
  );
}

function drawList(list, rows, state) {
  replace(list, table({
    id: "devices-table",
    caption: "Registered devices by device id",
    columns: ["Device id", "Kind", "Manufacturer and model", "Identifiers", "Status", "Secret issued", "Bound to", "Actions"],
    empty: "No devices registered yet.",
    rows: rows.map((d) => ({ attrs: { "data-device-id": d.device_id }, cells: [
      d.device_id, d.kind.replaceAll("_", " "), `${d.manufacturer} ${d.model}`, identifiers(d),
      d.status + (d.status_reason ? ` (${d.status_reason})` : ""),
      d.credential_issued_at ? formatDateTime(d.credential_issued_at) : "Never", boundTo(d.current_binding, state), actions(d, state)] })),
  }));
}

export async function render(container, { messages }) {
  const list = h("div", { id: "devices" });
  const more = h("button", { type: "button", class: "button-quiet", hidden: true }, "More devices");
  const panel = h("div", { id: "device-panel", "aria-live": "polite" });
  const register = registerForm();
  replace(container, card("new-device-title", "Register a device", register), panel, card("devices-title", "Devices", list, more));

  let rows = [];
  let after = null;
  const state = { messages, panel, wards: await api("/api/v1/wards"), bedLabels: new Map() };
  // A changed or new device goes on top, so whoever set it up sees it at once.
  state.show = (device) => {
    rows = [device, ...rows.filter((row) => row.id !== device.id)];
    drawList(list, rows, state);
  };
  const load = async () => {
    const page = await api(`/api/v1/devices${query({ after, limit: 50 })}`);
    rows = rows.concat(page.items);
    after = page.next_cursor;
    more.hidden = !after;
    drawList(list, rows, state);
  };
  more.addEventListener("click", () => act(messages, load));
  onSubmit(register, messages, async (data) => {
    const created = await api("/api/v1/devices", { method: "POST", json: data });
    register.reset();
    state.show(created);
    return `Device ${created.device_id} registered. Issue its secret next.`;
  });
  await load();
}
