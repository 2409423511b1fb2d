"""The demo's inpatients: seven on Ward 4B and three in the CCU, each with a bedside monitor.

Mrs O'Brien (Ward 4B, bed 3) is the patient who deteriorates: admitted with pneumonia, her live
monitor follows the sepsis scenario. Lab values are in the catalogue's units (US conventional).
"""

from __future__ import annotations

from datetime import date

from clinical.encounters import DoseUnit as U
from clinical.encounters import PeriodUnit as P
from clinical.encounters import Route as R
from clinical.lab import Priority
from clinical.patients import AdministrativeGender as G
from clinical.patients import AllergyCategory as AC
from clinical.patients import AllergyCriticality as AX
from ownat.demo.specs import Allergy, Consult, Contact, Labs, Med, Obs, PatientPlan, Problem, Rx, Stay

INPATIENTS: tuple[PatientPlan, ...] = (
    PatientPlan(
        "obrien", "Margaret", "O'Brien", G.FEMALE, date(1941, 3, 12),
        Contact("+44 20 7946 0311", emergency_name="Siobhan O'Brien", emergency_relationship="daughter",
                emergency_phone="+44 20 7946 0312"),
        allergies=(Allergy("Penicillin", AC.MEDICATION, AX.HIGH, "Anaphylaxis in 1998"),),
        problems=(Problem("I10", date(2005, 6, 1)), Problem("E11.9", date(2012, 9, 15))),
        meds=(Med("Metformin", "500 mg twice daily", started=date(2012, 9, 15)),
              Med("Amlodipine", "5 mg once daily", started=date(2005, 6, 1))),
        recorded_by="petrova",
        stay=Stay(
            "W4B", 3, 30, "petrova",
            "Community-acquired pneumonia, right lower lobe: productive cough and fever for four days",
            Consult(
                "Admission clerking. Frail older woman, lives alone; four days of productive cough, fever and increasing "
                "breathlessness. Chest: coarse crackles right base. CXR: right lower lobe consolidation. "
                "CURB-65 score 2 (age, urea). Penicillin anaphylaxis: clarithromycin IV. Oxygen to target "
                "SpO2 94-98%, IV fluids, VTE prophylaxis. Sepsis screen negative on arrival; NEWS2 hourly "
                "overnight, escalate to the medical registrar at NEWS2 5 or more.",
                diagnoses=("J18.9", "I10", "E11.9"),
                prescriptions=(
                    Rx("Clarithromycin", "500", U.MG, R.IV, 2, days=5),
                    Rx("Paracetamol", "1", U.G, R.ORAL, 4, as_needed=True, instructions="For fever or pain"),
                    Rx("Enoxaparin", "40", U.MG, R.SC, 1, instructions="VTE prophylaxis while in hospital"),
                ),
                labs=(Labs((("6690-2", "14.8"), ("718-7", "12.4"), ("777-3", "310"), ("1988-5", "142"),
                            ("2951-2", "133"), ("2823-3", "4.2"), ("3094-0", "24"), ("2160-0", "1.10"),
                            ("2524-7", "1.9"), ("33959-8", "0.90")),
                           "Admission bloods; sepsis screen", Priority.URGENT, result_after_h=1.5),),
                obs=Obs(96, 128, 74, 22, 93, 38.1),
            ),
            scenario="sepsis",
        ),
    ),
    PatientPlan(
        "mensah", "Kwame", "Mensah", G.MALE, date(1958, 11, 2), Contact("+44 20 7946 0327"),
        problems=(Problem("J44.9", date(2016, 2, 1), note="Ex-smoker, 40 pack-years"),),
        meds=(Med("Tiotropium", "18 micrograms inhaled once daily", "inhaled", date(2016, 2, 1)),
              Med("Salbutamol", "100 micrograms, 2 puffs as needed", "inhaled", date(2016, 2, 1))),
        recorded_by="tanaka",
        stay=Stay(
            "W4B", 1, 52, "tanaka", "Infective exacerbation of COPD",
            Consult(
                "Three days of worsening breathlessness and purulent sputum. Widespread wheeze. ABG on air: "
                "mild respiratory acidosis. Controlled oxygen 24-28% via Venturi, target SpO2 88-92%. "
                "Nebulised bronchodilators, oral prednisolone and doxycycline. Not for NIV at present; "
                "repeat gas if drowsy.",
                diagnoses=("J44.1",),
                prescriptions=(
                    Rx("Prednisolone", "30", U.MG, R.ORAL, 1, days=5, instructions="In the morning with food"),
                    Rx("Doxycycline", "100", U.MG, R.ORAL, 1, days=5, instructions="200 mg on the first day"),
                    Rx("Salbutamol nebules", "2.5", U.MG, R.INHALED, 4, instructions="Via nebuliser on air"),
                ),
                labs=(Labs((("6690-2", "11.9"), ("1988-5", "38"), ("2744-1", "7.33"), ("2019-8", "52"),
                            ("2703-7", "62")), "Exacerbation screen", Priority.URGENT, result_after_h=1.0),),
                obs=Obs(92, 138, 82, 22, 90, 37.4),
            ),
        ),
    ),
    PatientPlan(
        "rossi", "Sofia", "Rossi", G.FEMALE, date(1990, 5, 19), Contact("+44 20 7946 0345", language="it"),
        allergies=(Allergy("Latex", AC.ENVIRONMENT, AX.LOW, "Contact dermatitis"),),
        problems=(Problem("E10.9", date(2004, 10, 3)),),
        meds=(Med("Insulin glargine", "22 units at night", "subcutaneous", date(2004, 10, 3)),
              Med("Insulin aspart", "by carbohydrate counting with meals", "subcutaneous", date(2004, 10, 3))),
        recorded_by="petrova",
        stay=Stay(
            "W4B", 2, 20, "petrova", "Diabetic ketoacidosis after two days of gastroenteritis",
            Consult(
                "Type 1 diabetes since age 14. Vomiting and diarrhoea for 48 h, stopped her basal insulin. "
                "Capillary ketones 4.8 mmol/L, bicarbonate 12. DKA protocol: fixed-rate IV insulin, fluid "
                "resuscitation, potassium replacement by protocol; continue glargine. Hourly glucose and "
                "ketones, diabetes team review in the morning.",
                diagnoses=("E10.1",),
                prescriptions=(
                    Rx("Soluble insulin (Actrapid)", "6", U.UNIT, R.IV, 1, 1, P.HOUR,
                       instructions="Fixed-rate infusion 0.1 units/kg/h per DKA protocol"),
                    Rx("Sodium chloride 0.9%", "1000", U.ML, R.IV, 1, 4, P.HOUR,
                       instructions="With potassium chloride 40 mmol/L once potassium below 5.5"),
                ),
                labs=(Labs((("2345-7", "412"), ("2028-9", "12"), ("2823-3", "5.4"), ("2951-2", "131"),
                            ("2524-7", "1.8"), ("2160-0", "0.90")), "DKA", Priority.STAT, result_after_h=0.5),),
                obs=Obs(108, 112, 68, 24, 98, 37.2),
            ),
        ),
    ),
    PatientPlan(
        "volkov", "Dmitri", "Volkov", G.MALE, date(1949, 1, 27), Contact("+44 20 7946 0362", language="ru"),
        problems=(Problem("N18.3", date(2018, 4, 11)), Problem("I10", date(2001, 3, 2))),
        meds=(Med("Ramipril", "5 mg once daily", started=date(2001, 3, 2)),
              Med("Atorvastatin", "20 mg at night", started=date(2014, 7, 8))),
        recorded_by="petrova",
        stay=Stay(
            "W4B", 4, 75, "petrova", "Acute kidney injury on chronic kidney disease, dehydrated",
            Consult(
                "Poor oral intake during a heatwave; creatinine up from a baseline of 1.6. Dry mucosae, "
                "postural drop. Ramipril withheld, IV fluids, strict fluid balance, daily U&E. Renal "
                "ultrasound requested to exclude obstruction.",
                diagnoses=("N17.9", "N18.3", "I10"),
                prescriptions=(Rx("Sodium chloride 0.9%", "1000", U.ML, R.IV, 1, 8, P.HOUR,
                                  instructions="Review fluid balance before each bag"),),
                labs=(Labs((("2160-0", "2.90"), ("3094-0", "48"), ("2823-3", "5.8"), ("2951-2", "137"),
                            ("2028-9", "19")), "AKI screen", Priority.URGENT),),
                obs=Obs(84, 104, 62, 18, 96, 36.8),
            ),
        ),
    ),
    PatientPlan(
        "alsayed", "Fatima", "Al-Sayed", G.FEMALE, date(1966, 8, 9), Contact("+44 20 7946 0374", language="ar"),
        allergies=(Allergy("Sulfonamide antibiotics", AC.MEDICATION, AX.LOW, "Widespread itchy rash"),),
        problems=(Problem("E11.9", date(2019, 1, 20)), Problem("E66.9", date(2010, 5, 5))),
        meds=(Med("Metformin", "1 g twice daily", started=date(2019, 1, 20)),),
        recorded_by="petrova",
        stay=Stay(
            "W4B", 5, 44, "petrova", "Cellulitis of the left lower leg, not settling on oral antibiotics",
            Consult(
                "Spreading erythema of the left shin despite three days of oral flucloxacillin; margins "
                "marked. No collection on ultrasound. IV flucloxacillin, leg elevation, glucose monitoring.",
                diagnoses=("L03.1", "E11.9"),
                prescriptions=(Rx("Flucloxacillin", "2", U.G, R.IV, 4, days=5),),
                labs=(Labs((("6690-2", "13.1"), ("1988-5", "96"), ("2345-7", "182"), ("2160-0", "0.80")),
                           "Admission bloods"),),
                obs=Obs(88, 134, 80, 16, 97, 37.8),
            ),
        ),
    ),
    PatientPlan(
        "zhang", "Wei", "Zhang", G.MALE, date(1972, 12, 14), Contact("+44 20 7946 0389", language="zh"),
        problems=(Problem("K21.9", date(2015, 3, 9)), Problem("M54.5", date(2023, 1, 16))),
        meds=(Med("Naproxen", "500 mg twice daily", started=date(2023, 1, 16)),),
        recorded_by="petrova",
        stay=Stay(
            "W4B", 6, 26, "petrova", "Melaena and dizziness: suspected upper gastrointestinal bleed",
            Consult(
                "Black stools for two days while taking naproxen for back pain. Pale, HR 104. Glasgow-"
                "Blatchford score 9. Naproxen stopped, IV omeprazole, group and save, transfuse if Hb "
                "below 7. Endoscopy booked on the next list.",
                diagnoses=("K92.2", "K21.9"),
                prescriptions=(Rx("Omeprazole", "40", U.MG, R.IV, 2, days=3),),
                labs=(Labs((("718-7", "8.9"), ("777-3", "265"), ("3094-0", "38"), ("6301-6", "1.0"),
                            ("2160-0", "0.90")), "GI bleed", Priority.URGENT, result_after_h=1.0),),
                obs=Obs(104, 108, 66, 18, 98, 36.6),
            ),
        ),
    ),
    PatientPlan(
        "larsen", "Ingrid", "Larsen", G.FEMALE, date(1936, 4, 30),
        Contact("+44 20 7946 0391", language="da", emergency_name="Erik Larsen", emergency_relationship="son",
                emergency_phone="+44 20 7946 0392"),
        allergies=(Allergy("Codeine", AC.MEDICATION, AX.LOW, "Nausea and vomiting (intolerance)"),),
        problems=(Problem("M17.1", date(2008, 11, 1)), Problem("I10", date(1999, 5, 14))),
        meds=(Med("Bendroflumethiazide", "2.5 mg once daily", started=date(1999, 5, 14)),
              Med("Paracetamol", "1 g up to four times daily", started=date(2008, 11, 1))),
        recorded_by="petrova",
        stay=Stay(
            "W4B", 7, 60, "petrova", "Fall at home with new confusion; urinary tract infection",
            Consult(
                "Found on the floor by her son; new confusion (4AT 6). Dipstick positive for nitrites and "
                "leucocytes; no fracture on examination or X-ray. Oral cefalexin, thiazide held for "
                "hyponatraemia, delirium care bundle, falls assessment.",
                diagnoses=("N39.0", "F05.9"),
                prescriptions=(Rx("Cefalexin", "500", U.MG, R.ORAL, 3, days=7),),
                labs=(Labs((("6690-2", "12.2"), ("1988-5", "64"), ("2951-2", "129"), ("2160-0", "0.90")),
                           "Confusion screen"),),
                obs=Obs(86, 146, 78, 18, 95, 37.6),
            ),
        ),
    ),
    PatientPlan(
        "iyer", "Rajesh", "Iyer", G.MALE, date(1961, 7, 3), Contact("+44 20 7946 0405", language="en-GB"),
        problems=(Problem("I10", date(2010, 2, 2)), Problem("E78.0", date(2012, 6, 6)),
                  Problem("E11.9", date(2015, 8, 21))),
        meds=(Med("Metformin", "500 mg twice daily", started=date(2015, 8, 21)),
              Med("Ramipril", "2.5 mg once daily", started=date(2010, 2, 2))),
        recorded_by="okafor",
        stay=Stay(
            "CCU", 1, 40, "okafor", "NSTEMI: central chest pain radiating to the left arm, troponin rise",
            Consult(
                "Two hours of central crushing chest pain at rest. ECG: ST depression V4-V6. hs-troponin I "
                "1840 ng/L. GRACE score 132 (intermediate risk). Dual antiplatelet therapy, fondaparinux, "
                "high-intensity statin, bisoprolol. Angiography within 72 hours.",
                diagnoses=("I21.4", "I10", "E78.0"),
                prescriptions=(
                    Rx("Aspirin", "75", U.MG, R.ORAL, 1),
                    Rx("Ticagrelor", "90", U.MG, R.ORAL, 2),
                    Rx("Atorvastatin", "80", U.MG, R.ORAL, 1, instructions="At night"),
                    Rx("Fondaparinux", "2.5", U.MG, R.SC, 1, days=5),
                    Rx("Bisoprolol", "2.5", U.MG, R.ORAL, 1),
                ),
                labs=(Labs((("89579-7", "1840"), ("2093-3", "238"), ("2085-9", "36"), ("2823-3", "4.3"),
                            ("2160-0", "1.00")), "Chest pain", Priority.STAT, result_after_h=1.0),),
                obs=Obs(78, 142, 86, 16, 97, 36.7),
            ),
        ),
    ),
    PatientPlan(
        "garcia", "Carmen", "García", G.FEMALE, date(1953, 2, 21), Contact("+44 20 7946 0417", language="es"),
        allergies=(Allergy("Amiodarone", AC.MEDICATION, AX.LOW, "Photosensitivity"),),
        problems=(Problem("I48.0", date(2019, 9, 30)), Problem("E03.9", date(2011, 4, 4))),
        meds=(Med("Levothyroxine", "100 micrograms once daily", started=date(2011, 4, 4)),
              Med("Apixaban", "5 mg twice daily", started=date(2019, 9, 30))),
        recorded_by="okafor",
        stay=Stay(
            "CCU", 2, 18, "okafor", "Atrial fibrillation with fast ventricular response and palpitations",
            Consult(
                "Palpitations since last night, AF at 130-140/min, haemodynamically stable. On apixaban, "
                "no missed doses. Low TSH suggests over-replacement; potassium and magnesium low. Rate "
                "control with bisoprolol, replace electrolytes, reduce levothyroxine after endocrine advice.",
                diagnoses=("I48.0", "E87.6"),
                prescriptions=(Rx("Bisoprolol", "5", U.MG, R.ORAL, 1),
                               Rx("Apixaban", "5", U.MG, R.ORAL, 2, instructions="Continue usual dose")),
                labs=(Labs((("3016-3", "0.2"), ("2823-3", "3.3"), ("19123-9", "1.6"), ("33762-6", "860")),
                           "AF work-up", Priority.URGENT),),
                obs=Obs(118, 122, 76, 18, 96, 36.9),
            ),
        ),
    ),
    PatientPlan(
        "muller", "Thomas", "Müller", G.MALE, date(1947, 9, 11), Contact("+44 20 7946 0428", language="de"),
        allergies=(Allergy("Shellfish", AC.FOOD, AX.LOW, "Urticaria"),),
        problems=(Problem("I50.0", date(2021, 11, 5)), Problem("I25.1", date(2016, 3, 17)),
                  Problem("Z95.0", date(2020, 6, 23), note="Dual-chamber pacemaker")),
        meds=(Med("Furosemide", "40 mg once daily", started=date(2021, 11, 5)),
              Med("Bisoprolol", "5 mg once daily", started=date(2016, 3, 17)),
              Med("Sacubitril/valsartan", "49/51 mg twice daily", started=date(2022, 2, 1))),
        recorded_by="okafor",
        stay=Stay(
            "CCU", 3, 96, "okafor", "Acute decompensated heart failure: breathlessness, orthopnoea, leg oedema",
            Consult(
                "Known HFrEF (EF 30%). Weight up 6 kg in two weeks, bibasal crackles, pitting oedema to the "
                "knees. IV furosemide, daily weights, fluid restriction 1.5 L, add spironolactone. Echo "
                "and device check requested.",
                diagnoses=("I50.0", "I25.1"),
                prescriptions=(Rx("Furosemide", "80", U.MG, R.IV, 2),
                               Rx("Spironolactone", "25", U.MG, R.ORAL, 1)),
                labs=(Labs((("33762-6", "6400"), ("2951-2", "134"), ("2823-3", "4.9"), ("2160-0", "1.50"),
                            ("718-7", "11.8")), "Heart failure"),),
                obs=Obs(88, 106, 64, 22, 92, 36.5, weight=84.2),
            ),
        ),
    ),
)  # fmt: skip
