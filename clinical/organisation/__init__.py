"""Organisation: departments, practitioners, wards and beds, and admissions placing patients in beds."""
