// The administration sections, in navigation order; each has a module ./<name>.js exporting render().

export const SECTIONS = [
  { name: "users", title: "Staff accounts", description: "Create staff accounts, change roles, deactivate." },
  { name: "organisation", title: "Departments and wards", description: "Departments, wards and their beds." },
  { name: "schedules", title: "Schedules", description: "Practitioners' working hours and exceptions." },
  { name: "devices", title: "Devices", description: "Register devices, issue secrets, bind to a patient or bed, revoke." },
  { name: "audit", title: "Audit log", description: "Who did what, with filters, and the hash-chain check." },
  { name: "system", title: "System", description: "Alarm evaluation, ingest rate, connected devices, dead letters, notification backlog." },
  { name: "analytics", title: "Analytics", description: "Reports over a date range, as tables and charts, and CSV." },
  { name: "apps", title: "SMART apps", description: "Register apps that use the FHIR API, see their client ids, suspend them." },
  { name: "requests", title: "Data requests", description: "Patients' requests for a copy, a correction or erasure of their data." },
];
