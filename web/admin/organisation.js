// Departments, wards and beds: create them, take them out of service, and list a ward's beds.

import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { act, card, choice, field, onSubmit, table } from "./ui.js";

export async function render(container, { messages }) {
  const departments = h("div", { id: "departments" });
  const wards = h("div", { id: "wards" });
  const beds = h("div", { id: "beds", "aria-live": "polite" });
  const departmentForm = h(
    "form",
    { class: "row", id: "department-form" },
    field("Department code", { name: "code", required: true, maxlength: 32 }),
    field("Department name", { name: "name", required: true, maxlength: 200 }),
    h("button", { type: "submit" }, "Add department"),
  );
  const wardForm = h(
    "form",
    { class: "row", id: "ward-form" },
    choice("Department", { name: "department_id", required: true }, []),
    field("Ward code", { name: "code", required: true, maxlength: 32 }),
    field("Ward name", { name: "name", required: true, maxlength: 200 }),
    h("button", { type: "submit" }, "Add ward"),
  );
  replace(
    container,
    card("departments-title", "Departments", departmentForm, departments),
    card("wards-title", "Wards", wardForm, wards),
    card("beds-title", "Beds", beds),
  );
  let departmentRows = [];
  const departmentName = (id) => departmentRows.find((d) => d.id === id)?.name ?? "";

  const loadDepartments = async () => {
    departmentRows = await api("/api/v1/departments?include_inactive=true");
    replace(departments, table({
      id: "departments-table", caption: "Departments", columns: ["Code", "Name", "Status", "Actions"],
      empty: "No departments yet.",
      rows: departmentRows.map((d) => ({ attrs: { "data-department-id": d.id }, cells: [d.code, d.name, d.active ? "Active" : "Inactive",
        toggle(d.active, () => api(`/api/v1/departments/${d.id}`, { method: "PATCH", json: { active: !d.active } }).then(loadDepartments))] })),
    }));
    replace(wardForm.querySelector("select"), departmentRows.filter((d) => d.active).map((d) => h("option", { value: d.id }, `${d.name} (${d.code})`)));
  };
  const loadWards = async () => {
    const rows = await api("/api/v1/wards?include_inactive=true");
    replace(wards, table({
      id: "wards-table", caption: "Wards", columns: ["Code", "Name", "Department", "Status", "Actions"],
      empty: "No wards yet.",
      rows: rows.map((w) => ({ attrs: { "data-ward-id": w.id }, cells: [w.code, w.name, departmentName(w.department_id), w.active ? "Active" : "Inactive",
        h("div", { class: "actions" },
          h("button", { type: "button", class: "button-quiet", onclick: () => act(messages, () => showBeds(w)) }, `Beds of ${w.code}`),
          toggle(w.active, () => api(`/api/v1/wards/${w.id}`, { method: "PATCH", json: { active: !w.active } }).then(loadWards)))] })),
    }));
  };
  const toggle = (active, work) =>
    h("button", { type: "button", class: "button-quiet", onclick: () => act(messages, work) }, active ? "Take out of service" : "Return to service");

  const showBeds = async (ward) => {
    const rows = await api(`/api/v1/wards/${ward.id}/beds?include_inactive=true`);
    const bedForm = h("form", { class: "row", id: "bed-form" }, field(`New bed label on ${ward.code}`, { name: "label", required: true, maxlength: 32 }), h("button", { type: "submit" }, "Add bed"));
    onSubmit(bedForm, messages, async (data) => {
      const bed = await api(`/api/v1/wards/${ward.id}/beds`, { method: "POST", json: data });
      await showBeds(ward);
      beds.querySelector("input[name=label]").focus();
      return `Bed ${bed.label} added to ${ward.name}.`;
    });
    replace(beds, h("h3", {}, `${ward.name} (${ward.code})`), bedForm, table({
      id: "beds-table", caption: `Beds of ${ward.name}`, columns: ["Label", "Status", "Actions"], empty: "This ward has no beds yet.",
      rows: rows.map((b) => ({ attrs: { "data-bed-id": b.id }, cells: [b.label, b.active ? "In service" : "Out of service",
        toggle(b.active, () => api(`/api/v1/beds/${b.id}`, { method: "PATCH", json: { active: !b.active } }).then(() => showBeds(ward)))] })),
    }));
  };

  onSubmit(departmentForm, messages, async (data) => {
    const created = await api("/api/v1/departments", { method: "POST", json: data });
    departmentForm.reset();
    await loadDepartments();
    return `Department ${created.name} added.`;
  });
  onSubmit(wardForm, messages, async (data) => {
    const created = await api("/api/v1/wards", { method: "POST", json: data });
    wardForm.reset();
    await loadWards();
    await showBeds(created);
    return `Ward ${created.name} added; add its beds below.`;
  });
  replace(beds, h("p", { class: "empty" }, "Choose a ward's beds above."));
  await loadDepartments();
  await loadWards();
}
