"""The demo hospital loaded by `ownat seed` and on the embedded mode's first start.

A small hospital built through the domain services: four departments, seven practitioners with
weekly clinics (one on leave), two wards with twelve beds, twenty patients with charts and
histories, ten of them admitted with a bedside monitor each (one deteriorates), past visits with
signed notes, diagnoses, prescriptions and final lab results, and bookings ahead, including video
calls between the demo patient and the demo clinician today or tomorrow. Times are relative to
when it is loaded. Its passwords are published, so production refuses it.
"""

from ownat.demo.accounts import DEMO_ACCOUNTS, DemoAccount, demo_accounts_text, print_demo_accounts
from ownat.demo.monitors import DemoDevice, demo_devices, simulated_devices
from ownat.demo.seed import seed_demo_data

__all__ = [
    "DEMO_ACCOUNTS",
    "DemoAccount",
    "DemoDevice",
    "demo_accounts_text",
    "demo_devices",
    "print_demo_accounts",
    "seed_demo_data",
    "simulated_devices",
]
