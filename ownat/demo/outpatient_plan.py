"""The demo's outpatients: the demo patient account and nine others seen in clinic or by video.

Each has a past visit or two (completed with notes, diagnoses, prescriptions and results; one
no-show, one cancellation) and most have a booking ahead, several with the demo clinician today.
"""

from __future__ import annotations

from datetime import date, time

from clinical.encounters import DoseUnit as U
from clinical.encounters import Route as R
from clinical.patients import AdministrativeGender as G
from clinical.patients import AllergyCategory as AC
from clinical.patients import AllergyCriticality as AX
from clinical.patients import ConditionStatus
from ownat.demo.specs import (
    IN_PERSON,
    VIDEO,
    Allergy,
    Consult,
    Contact,
    Labs,
    Med,
    Obs,
    PatientPlan,
    Problem,
    Rx,
    Upcoming,
    Visit,
    awaiting,
)

OUTPATIENTS: tuple[PatientPlan, ...] = (
    PatientPlan(
        "jensen", "Pat", "Jensen", G.FEMALE, date(1986, 7, 22),
        Contact("+44 20 7946 0501", emergency_name="Sam Jensen", emergency_relationship="partner",
                emergency_phone="+44 20 7946 0502"),
        allergies=(Allergy("Peanut", AC.FOOD, AX.HIGH, "Throat swelling and hives; carries an adrenaline auto-injector"),),
        problems=(Problem("J45.9", date(2001, 5, 1)), Problem("E03.9", date(2019, 2, 11))),
        meds=(Med("Levothyroxine", "75 micrograms once daily", started=date(2019, 2, 11)),
              Med("Salbutamol", "100 micrograms, 2 puffs as needed", "inhaled", date(2001, 5, 1))),
        is_demo_account=True,
        visits=(
            Visit("morgan", IN_PERSON, 62, time(9, 20), "Tiredness and weight gain", Consult(
                "Three months of tiredness, feeling cold, 3 kg weight gain on levothyroxine 50 micrograms. "
                "Adherent. TSH raised: increase to 75 micrograms daily, repeat TSH in 6-8 weeks.",
                diagnoses=("E03.9",),
                prescriptions=(Rx("Levothyroxine", "75", U.MCG, R.ORAL, 1, instructions="Before breakfast"),),
                labs=(Labs((("3016-3", "6.8"), ("718-7", "12.8"), ("6690-2", "6.1"), ("4548-4", "5.3")),
                           "Tiredness screen"),
                      awaiting("Repeat TSH 6-8 weeks after the dose change", "3016-3")),
                obs=Obs(68, 124, 78, 14, 99, 36.6, weight=71.5),
            )),
            Visit("morgan", VIDEO, 21, time(18, 30), "Night-time cough and wheeze", Consult(
                "Asthma symptoms three nights a week, using salbutamol daily. No steroid inhaler since "
                "2020. Start beclometasone 100 micrograms two puffs twice daily; personalised asthma "
                "action plan sent; review technique by video in a few weeks.",
                diagnoses=("J45.9",),
                prescriptions=(Rx("Beclometasone 100 micrograms inhaler", "2", U.PUFF, R.INHALED, 2),
                               Rx("Salbutamol 100 micrograms inhaler", "2", U.PUFF, R.INHALED, 4, as_needed=True)),
            )),
        ),
        upcoming=(
            Upcoming("morgan", VIDEO, "Asthma review and inhaler technique", by_patient=True),
            Upcoming("morgan", VIDEO, "Thyroid dose check", days=1, at=time(10), by_patient=True),
            Upcoming("tanaka", IN_PERSON, "Respiratory clinic: spirometry", days=10, at=time(9)),
        ),
    ),
    PatientPlan(
        "perez", "Juan", "Pérez", G.MALE, date(1980, 10, 5), Contact("+44 20 7946 0513", language="es"),
        problems=(Problem("I10", date(2021, 3, 18)),),
        meds=(Med("Amlodipine", "5 mg once daily", started=date(2021, 3, 18)),),
        visits=(Visit("morgan", IN_PERSON, 35, time(11), "Blood pressure review", Consult(
            "Clinic BP 146/92, home readings average 142/90 on amlodipine 5 mg. Lifestyle advice; "
            "increase to 10 mg. Lipids raised: QRISK3 12%, discuss a statin at the next review.",
            diagnoses=("I10",),
            prescriptions=(Rx("Amlodipine", "10", U.MG, R.ORAL, 1),),
            labs=(Labs((("2951-2", "139"), ("2823-3", "4.1"), ("2160-0", "1.02"), ("2093-3", "212"),
                        ("2085-9", "44"), ("2571-8", "180"), ("2345-7", "96")), "Hypertension review"),),
            obs=Obs(74, 146, 92, 14, 98, 36.7, weight=88.0),
        )),),
        upcoming=(Upcoming("morgan", VIDEO, "Home blood pressure readings", hours=1.0),),
    ),
    PatientPlan(
        "nair", "Priya", "Nair", G.FEMALE, date(1988, 1, 17), Contact("+44 20 7946 0524"),
        allergies=(Allergy("Ibuprofen", AC.MEDICATION, AX.LOW, "Epigastric pain (intolerance)"),),
        problems=(Problem("G43.9", date(2010, 6, 1)),),
        meds=(Med("Sumatriptan", "50 mg at onset of migraine", started=date(2012, 1, 1)),),
        visits=(Visit("morgan", VIDEO, 14, time(12, 15), "Migraines more frequent", Consult(
            "Six to eight migraine days a month, no red flags, normal neurology by history. Start "
            "propranolol prophylaxis, headache diary, review in a month.",
            diagnoses=("G43.9",),
            prescriptions=(Rx("Propranolol", "40", U.MG, R.ORAL, 2, days=90),),
        )),),
        upcoming=(Upcoming("morgan", VIDEO, "Migraine prophylaxis follow-up", hours=2.0),),
    ),
    PatientPlan(
        "adeyemi", "Olusegun", "Adeyemi", G.MALE, date(1975, 3, 28), Contact("+44 20 7946 0535"),
        problems=(Problem("E11.9", date(2017, 4, 12)), Problem("E66.9", date(2017, 4, 12))),
        meds=(Med("Metformin", "1 g twice daily", started=date(2017, 4, 12)),),
        visits=(Visit("morgan", IN_PERSON, 90, time(10, 40), "Diabetes annual review", Consult(
            "HbA1c 8.4% despite full-dose metformin. No hypoglycaemia. Foot and eye checks up to date. "
            "Add empagliflozin; sick-day rules explained. Repeat HbA1c in three months.",
            diagnoses=("E11.9",),
            prescriptions=(Rx("Empagliflozin", "10", U.MG, R.ORAL, 1),),
            labs=(Labs((("4548-4", "8.4"), ("2345-7", "168"), ("2160-0", "1.00"), ("2093-3", "205")),
                       "Diabetes annual review"),
                  awaiting("HbA1c three months after adding empagliflozin", "4548-4", "2160-0")),
            obs=Obs(80, 136, 84, 15, 97, 36.8, weight=102.0),
        )),),
        upcoming=(Upcoming("rahman", IN_PERSON, "Diabetes review: HbA1c", days=3, at=time(11)),),
    ),
    PatientPlan(
        "khalil", "Omar", "Khalil", G.MALE, date(1969, 6, 12), Contact("+44 20 7946 0546", language="ar"),
        problems=(Problem("I48.9", date(2020, 7, 7)), Problem("I10", date(2015, 5, 5))),
        meds=(Med("Warfarin", "3 mg daily, dose by INR", started=date(2020, 7, 7)),),
        visits=(Visit("okafor", IN_PERSON, 28, time(10), "Palpitations; anticoagulation review", Consult(
            "Intermittent palpitations, AF on ECG at 96/min. INR in range on warfarin. Start bisoprolol "
            "for rate control; 48-hour Holter monitor fitted.",
            diagnoses=("I48.9",),
            prescriptions=(Rx("Bisoprolol", "2.5", U.MG, R.ORAL, 1),),
            labs=(Labs((("6301-6", "2.4"), ("718-7", "14.6"), ("2823-3", "4.4")), "Anticoagulation"),),
            obs=Obs(96, 132, 84, 16, 97, 36.6),
        )),),
        upcoming=(Upcoming("okafor", IN_PERSON, "Cardiology follow-up: Holter results", days=6, at=time(10)),),
    ),
    PatientPlan(
        "sato", "Yuki", "Sato", G.FEMALE, date(1983, 9, 8), Contact("+44 20 7946 0557", language="ja"),
        problems=(Problem("F41.1", date(2022, 10, 1)),),
        meds=(Med("Sertraline", "50 mg once daily", started=date(2022, 11, 1)),),
        visits=(
            Visit("morgan", VIDEO, 45, time(17, 45), "Anxiety follow-up", Consult(
                "Generalised anxiety improving on sertraline 50 mg (GAD-7 from 15 to 8). Sleeping better. "
                "Continue; self-referral to talking therapies; review in six weeks.",
                diagnoses=("F41.1",),
                prescriptions=(Rx("Sertraline", "50", U.MG, R.ORAL, 1, days=90),),
            )),
            Visit("morgan", VIDEO, 7, time(16), "Six-week anxiety review", outcome="no_show"),
        ),
        upcoming=(Upcoming("morgan", VIDEO, "Rebooked anxiety review", days=1, at=time(17)),),
    ),
    PatientPlan(
        "martin", "Lucas", "Martin", G.MALE, date(2014, 4, 3),
        Contact("+44 20 7946 0568", language="fr", emergency_name="Claire Martin",
                emergency_relationship="mother", emergency_phone="+44 20 7946 0569"),
        problems=(Problem("H66.9", status=ConditionStatus.RESOLVED),),
        visits=(Visit("morgan", VIDEO, 5, time(8, 30), "Ear pain and fever for two days", Consult(
            "Right ear pain, temperature 38.4 at home, eating and drinking. Mother shows a bulging red "
            "drum on the otoscope camera. Amoxicillin for five days, safety-netting advice given.",
            diagnoses=("H66.9",),
            prescriptions=(Rx("Amoxicillin oral suspension 250 mg/5 mL", "250", U.MG, R.ORAL, 3, days=5,
                              instructions="5 mL three times a day"),),
        )),),
    ),
    PatientPlan(
        "silva", "Ana", "Silva", G.FEMALE, date(1992, 12, 1), Contact("+44 20 7946 0571", language="pt"),
        problems=(Problem("D50.9"),),
        visits=(
            Visit("morgan", IN_PERSON, 40, time(14), "Fatigue and heavy periods", Consult(
                "Months of tiredness and menorrhagia. Pale conjunctivae. Microcytic anaemia: oral iron, "
                "gynaecology referral, repeat blood count in six weeks.",
                diagnoses=("D50.9",),
                prescriptions=(Rx("Ferrous sulfate", "200", U.MG, R.ORAL, 2, days=90),),
                labs=(Labs((("718-7", "9.6"), ("787-2", "72"), ("785-6", "23"), ("777-3", "410")),
                           "Fatigue screen"),
                      awaiting("Repeat blood count on oral iron", "718-7", "787-2")),
                obs=Obs(88, 112, 70, 14, 99, 36.5),
            )),
            Visit("rahman", IN_PERSON, 3, time(15), "Iron tablets side effects", outcome="cancelled"),
        ),
        upcoming=(Upcoming("morgan", VIDEO, "Iron tablets and repeat blood count", days=2, at=time(12)),),
    ),
    PatientPlan(
        "yilmaz", "Ahmet", "Yılmaz", G.MALE, date(1955, 5, 15), Contact("+44 20 7946 0582", language="tr"),  # noqa: RUF001 - Turkish dotless i
        problems=(Problem("J44.9", date(2015, 9, 9), note="Ex-smoker since 2015"),),
        meds=(Med("Tiotropium", "18 micrograms inhaled once daily", "inhaled", date(2015, 9, 9)),),
        recorded_by="tanaka",
        visits=(Visit("tanaka", IN_PERSON, 56, time(9, 40), "COPD review: breathless on exertion", Consult(
            "MRC dyspnoea grade 3, one exacerbation this year. FEV1 54% predicted. Switch to a LAMA/LABA "
            "combination inhaler, refer to pulmonary rehabilitation, flu and pneumococcal vaccines.",
            diagnoses=("J44.9",),
            prescriptions=(Rx("Umeclidinium/vilanterol 55/22 micrograms inhaler", "1", U.PUFF, R.INHALED, 1),),
            obs=Obs(84, 138, 80, 18, 93, 36.6, weight=79.0),
        )),),
        upcoming=(Upcoming("tanaka", IN_PERSON, "Pulmonary rehabilitation review", days=3, at=time(9)),),
    ),
    PatientPlan(
        "schmidt", "Hannah", "Schmidt", G.FEMALE, date(2001, 2, 14), Contact("+44 20 7946 0593", language="de"),
        visits=(Visit("morgan", VIDEO, 2, time(19), "Fever after travel to Ghana", Consult(
            "Fevers for four days since returning from Accra; took malaria prophylaxis inconsistently. "
            "Same-day malaria films negative. Bloods below; referred to the infectious diseases clinic.",
            diagnoses=("R50.9",),
            labs=(Labs((("6690-2", "5.2"), ("1988-5", "18"), ("777-3", "140"), ("1742-6", "62")),
                       "Returning traveller with fever", result_after_h=2.0),),
        )),),
        upcoming=(Upcoming("mendes", IN_PERSON, "Infectious diseases: fever after travel", days=4, at=time(9)),),
    ),
)  # fmt: skip
