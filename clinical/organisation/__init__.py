"""Organisation: departments, practitioners, wards and beds, and admissions placing patients in beds.

This module is the front door: other packages import the services and schemas below from here, and
the ORM models they join on (who works where, which bed a patient lies in).
"""

from clinical.organisation.admission_schemas import (
    AdmissionCreate,
    AdmissionRead,
    DischargeRequest,
    TransferRequest,
    WardCensus,
)
from clinical.organisation.admissions import MAX_LIST as MAX_ADMISSION_LIST
from clinical.organisation.admissions import admit, discharge, get_admission, list_admissions, transfer
from clinical.organisation.census import current_stays, ward_census

# ORM models, exposed for joins: device registry, alarms, the hub and consult rooms join on beds
# and wards; scheduling, encounters, billing and FHIR on practitioners and departments.
from clinical.organisation.models import Admission, Bed, Department, Practitioner, PractitionerSpecialty, Ward
from clinical.organisation.practitioners import (
    create_practitioner,
    get_practitioner,
    list_practitioners,
    update_practitioner,
)
from clinical.organisation.schemas import (
    BedCreate,
    BedRead,
    BedUpdate,
    DepartmentCreate,
    DepartmentRead,
    DepartmentUpdate,
    PractitionerCreate,
    PractitionerRead,
    PractitionerUpdate,
    Qualification,
    WardCreate,
    WardRead,
    WardUpdate,
)
from clinical.organisation.service import (
    create_bed,
    create_department,
    create_ward,
    get_department,
    get_ward,
    list_beds,
    list_departments,
    list_wards,
    update_bed,
    update_department,
    update_ward,
)

__all__ = [
    "MAX_ADMISSION_LIST",
    "Admission",
    "AdmissionCreate",
    "AdmissionRead",
    "Bed",
    "BedCreate",
    "BedRead",
    "BedUpdate",
    "Department",
    "DepartmentCreate",
    "DepartmentRead",
    "DepartmentUpdate",
    "DischargeRequest",
    "Practitioner",
    "PractitionerCreate",
    "PractitionerRead",
    "PractitionerSpecialty",
    "PractitionerUpdate",
    "Qualification",
    "TransferRequest",
    "Ward",
    "WardCensus",
    "WardCreate",
    "WardRead",
    "WardUpdate",
    "admit",
    "create_bed",
    "create_department",
    "create_practitioner",
    "create_ward",
    "current_stays",
    "discharge",
    "get_admission",
    "get_department",
    "get_practitioner",
    "get_ward",
    "list_admissions",
    "list_beds",
    "list_departments",
    "list_practitioners",
    "list_wards",
    "transfer",
    "update_bed",
    "update_department",
    "update_practitioner",
    "update_ward",
    "ward_census",
]
