"""Fee schedule: billable services (procedures, consultations by duration band, lab tests) and dated prices."""
