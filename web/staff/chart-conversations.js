// The chart's Messages tab: the patient's conversations with their care teams, drawn by the
// messaging pages' own module so that the chart and the triage inbox show them alike.

import { mountChartMessages } from "./chart-messages.js";

export async function render(panel, chart) {
  await mountChartMessages(panel, { patientId: chart.patient.id });
}
