// Departments, wards and beds: create them, take them out of service, and list a ward's beds.

import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { act, card, choice, field, onSubmit, table } from "./ui.js";

const statusText = (active) => (active ? "Active" : "Inactive");

function toggle(state, active, work) {
  return h("button", { type: "button", class: "button-quiet", onclick: () => act(state.messages, work) },
    active ? "Take out of service" : "Return to service");
}

async function loadDepartments(state) {
  state.departments = await api("/api/v1/departments?include_inactive=true");
  replace(state.departmentList, table({
    id: "departments-table", caption: "Departments", columns: ["Code", "Name", "Status", "Actions"], empty: "No departments yet.",
    rows: state.departments.map((d) => ({ attrs: { "data-department-id": d.id }, cells: [d.code, d.name, statusText(d.active),
      toggle(state, d.active, async () => {
        await api(`/api/v1/departments/${d.id}`, { method: "PATCH", json: { active: !d.active } });
        await loadDepartments(state);
      })] })),
  }));
  replace(state.wardForm.querySelector("select"),
    state.departments.filter((d) => d.active).map((d) => h("option", { value: d.id }, `${d.name} (${d.code})`)));
}

async function loadWards(state) {
  const rows = await api("/api/v1/wards?include_inactive=true");
  const departmentName = (id) => state.departments.find((d) => d.id === id)?.name ?? "";
  replace(state.wardList, table({
    id: "wards-table", caption: "Wards", columns: ["Code", "Name", "Department", "Status", "Actions"], empty: "No wards yet.",
    rows: rows.map((w) => ({ attrs: { "data-ward-id": w.id }, cells: [w.code, w.name, departmentName(w.department_id), statusText(w.active),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "button-quiet", onclick: () => act(state.messages, () => showBeds(state, w)) }, `Beds of ${w.code}`),
        toggle(state, w.active, async () => {
          await api(`/api/v1/wards/${w.id}`, { method: "PATCH", json: { active: !w.active } });
          await loadWards(state);
        }))] })),
  }));
}

async function showBeds(state, ward) {
  const rows = await api(`/api/v1/wards/${ward.id}/beds?include_inactive=true`);
  const bedForm = h("form", { class: "row", id: "bed-form" },
    field(`New bed label on ${ward.code}`, { name: "label", required: true, maxlength: 32 }), h("button", { type: "submit" }, "Add bed"));
  onSubmit(bedForm, state.messages, async (data) => {
    const bed = await api(`/api/v1/wards/${ward.id}/beds`, { method: "POST", json: data });
    await showBeds(state, ward);
    state.bedList.querySelector("input[name=label]").focus();
    return `Bed ${bed.label} added to ${ward.name}.`;
  });
  replace(state.bedList, h("h3", {}, `${ward.name} (${ward.code})`), bedForm, table({
    id: "beds-table", caption: `Beds of ${ward.name}`, columns: ["Label", "Status", "Actions"], empty: "This ward has no beds yet.",
    rows: rows.map((b) => ({ attrs: { "data-bed-id": b.id }, cells: [b.label, b.active ? "In service" : "Out of service",
      toggle(state, b.active, async () => {
        await api(`/api/v1/beds/${b.id}`, { method: "PATCH", json: { active: !b.active } });
        await showBeds(state, ward);
      })] })),
  }));
}

export async function render(container, { messages }) {
  const departmentForm = h("form", { class: "row", id: "department-form" },
    field("Department code", { name: "code", required: true, maxlength: 32 }),
    field("Department name", { name: "name", required: true, maxlength: 200 }),
    h("button", { type: "submit" }, "Add department"));
  const state = {
    messages,
    departments: [],
    departmentList: h("div", { id: "departments" }),
    wardList: h("div", { id: "wards" }),
    bedList: h("div", { id: "beds", "aria-live": "polite" }, h("p", { class: "empty" }, "Choose a ward's beds above.")),
    wardForm: h("form", { class: "row", id: "ward-form" },
      choice("Department", { name: "department_id", required: true }, []),
      field("Ward code", { name: "code", required: true, maxlength: 32 }),
      field("Ward name", { name: "name", required: true, maxlength: 200 }),
      h("button", { type: "submit" }, "Add ward")),
  };
  replace(container,
    card("departments-title", "Departments", departmentForm, state.departmentList),
    card("wards-title", "Wards", state.wardForm, state.wardList),
    card("beds-title", "Beds", state.bedList));
  onSubmit(departmentForm, messages, async (data) => {
    const created = await api("/api/v1/departments", { method: "POST", json: data });
    departmentForm.reset();
    await loadDepartments(state);
    return `Department ${created.name} added.`;
  });
  onSubmit(state.wardForm, messages, async (data) => {
    const created = await api("/api/v1/wards", { method: "POST", json: data });
    state.wardForm.reset();
    await loadWards(state);
    await showBeds(state, created);
    return `Ward ${created.name} added; add its beds below.`;
  });
  await loadDepartments(state);
  await loadWards(state);
}
