// Codes as people say them: statuses, kinds and units from the API in words. A code missing here
// is still shown readably (underscores and hyphens become spaces), never as an identifier.

const WORDS = {
  appointment: {
    booked: "Booked", checked_in: "Arrived", in_progress: "With clinician", completed: "Completed",
    cancelled: "Cancelled", no_show: "Did not attend",
  },
  mode: { in_person: "In person", video: "Video" },
  encounter: { planned: "Planned", in_progress: "In progress", finished: "Finished", cancelled: "Cancelled" },
  encounterClass: { ambulatory: "Clinic visit", virtual: "Video consultation", inpatient: "Inpatient stay" },
  invoice: { draft: "Draft", issued: "Issued", partially_paid: "Part paid", paid: "Paid", void: "Void" },
  claim: {
    draft: "Draft", submitted: "Submitted", accepted: "Accepted by payer", denied: "Denied",
    partially_paid: "Part paid", paid: "Paid",
  },
  payment: { pending: "Pending", succeeded: "Received", failed: "Failed" },
  method: { cash: "Cash", bank_transfer: "Bank transfer", card: "Card" },
  refund: { pending: "Pending", succeeded: "Refunded", failed: "Failed" },
  labOrder: {
    registered: "Ordered", collected: "Sample taken", in_progress: "In the laboratory", preliminary: "Preliminary",
    final: "Final", corrected: "Corrected", cancelled: "Cancelled",
  },
  priority: { routine: "Routine", urgent: "Urgent", stat: "Immediate (stat)", high: "High", medium: "Medium", low: "Low" },
  flag: { H: "High", L: "Low", HH: "Critically high", LL: "Critically low", N: "Normal", A: "Abnormal", AA: "Critically abnormal" },
  criticality: { low: "Low risk", high: "High risk", "unable-to-assess": "Risk not assessed" },
  allergyCategory: { medication: "Medicine", food: "Food", environment: "Environment", biologic: "Biologic" },
  condition: { active: "Active", recurrence: "Recurred", relapse: "Relapsed", inactive: "Inactive", remission: "In remission", resolved: "Resolved" },
  medication: { active: "Taking", "on-hold": "On hold", completed: "Finished", stopped: "Stopped", intended: "Planned" },
  gender: { male: "Male", female: "Female", other: "Other", unknown: "Not stated" },
  prescription: { active: "Active", completed: "Completed", cancelled: "Cancelled", stopped: "Stopped" },
  route: {
    oral: "By mouth", sublingual: "Under the tongue", buccal: "In the cheek", iv: "Intravenous", im: "Intramuscular",
    sc: "Under the skin", intradermal: "Into the skin", inhaled: "Inhaled", nasal: "Nasal", topical: "On the skin",
    transdermal: "Patch", ophthalmic: "Eye", otic: "Ear", rectal: "Rectal",
  },
  doseUnit: {
    mg: "mg", g: "g", ug: "micrograms", mL: "mL", L: "L", "[iU]": "international units", unit: "units",
    mmol: "mmol", tablet: "tablets", capsule: "capsules", puff: "puffs", drop: "drops", patch: "patches",
    sachet: "sachets",
  },
  periodUnit: { h: "hour", d: "day", wk: "week" },
  documentKind: {
    report: "Report", imaging: "Imaging", lab_result: "Laboratory result", referral: "Referral letter",
    prescription: "Prescription", consent: "Consent form", discharge_summary: "Discharge summary", other: "Other",
  },
  coverage: { active: "Active", cancelled: "Cancelled" },
  relationship: { self: "Self", spouse: "Spouse", child: "Child", other: "Other" },
  serviceKind: { consultation: "Consultation", procedure: "Procedure", lab_test: "Lab test" },
  role: { admin: "Administrator", clinician: "Clinician", nurse: "Nurse", billing: "Billing clerk", patient: "Patient" },
  deviceKind: { bedside_monitor: "Bedside monitor", pulse_oximeter: "Pulse oximeter", bp_cuff: "Blood pressure cuff", thermometer: "Thermometer", scale: "Scale", wearable: "Wearable", gateway: "Gateway" },
  chargeSource: { consultation: "Consultation", procedure: "Procedure", lab_test: "Lab test", manual: "Entered by hand" },
  news2Parameter: {
    respiration_rate: "respiration rate", spo2: "oxygen saturation", air_or_oxygen: "air or oxygen",
    systolic_bp: "systolic pressure", pulse: "pulse", consciousness: "consciousness", temperature: "temperature",
  },
  consciousness: { A: "Alert", C: "New confusion", V: "Voice", P: "Pain", U: "Unresponsive" },
  oxygenDevice: {
    nasal_cannula: "Nasal cannula", simple_mask: "Simple face mask", venturi_mask: "Venturi mask",
    non_rebreather_mask: "Non-rebreather mask", high_flow_nasal: "High-flow nasal oxygen", cpap_niv: "CPAP or NIV",
    tracheostomy_mask: "Tracheostomy mask", other: "Other device",
  },
  monitoringFrequency: {
    "12-hourly": "Observations every 12 hours", "4-6-hourly": "Observations every 4–6 hours", hourly: "Observations hourly",
    continuous: "Continuous monitoring",
  },
};

/** The word for `code` in `kind` ("invoice", "partially_paid" -> "Part paid"). */
export function word(kind, code) {
  if (code === null || code === undefined || code === "") return "";
  const known = WORDS[kind]?.[code];
  if (known) return known;
  const text = String(code).replaceAll("_", " ").replaceAll("-", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// UCUM codes as they are printed: "m[IU]/L" reads "mIU/L", "10*3/uL" reads "10³/µL".
const UNIT_PARTS = [["[IU]", "IU"], ["[iU]", "IU"], ["10*3", "10³"], ["10*6", "10⁶"], ["10*9", "10⁹"], ["10*12", "10¹²"], ["uL", "µL"], ["ug", "µg"], ["umol", "µmol"], ["mm[Hg]", "mmHg"], ["Cel", "°C"], ["[degF]", "°F"]];

/** A UCUM unit as people write it. */
export function displayUnit(unit) {
  if (!unit) return "";
  return UNIT_PARTS.reduce((text, [code, shown]) => text.replaceAll(code, shown), unit);
}

// A medical record number as a label: "MRN 123456", but an MRN that names itself ("MRN-0000000034",
// as Ownat issues them) is not labelled twice.
export function mrnLabel(mrn) {
  return /^mrn\b/i.test(mrn) ? mrn : `MRN ${mrn}`;
}
