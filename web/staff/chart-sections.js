// The patient chart's sections, in tab order: one module per concern, each exporting
// `render(panel, chart)`. A new concern (secure messages, say) adds one line here and its module.

export const CHART_SECTIONS = [
  { name: "overview", title: "Overview", load: () => import("./chart-overview.js") },
  { name: "encounters", title: "Encounters and notes", load: () => import("./chart-encounters.js") },
  { name: "results", title: "Results", load: () => import("./chart-results.js") },
  { name: "vitals", title: "Vitals and alarms", load: () => import("./chart-vitals.js") },
  { name: "documents", title: "Documents", load: () => import("./chart-documents.js") },
  { name: "appointments", title: "Appointments", load: () => import("./chart-appointments.js") },
  { name: "messages", title: "Messages", load: () => import("./chart-conversations.js") },
];
