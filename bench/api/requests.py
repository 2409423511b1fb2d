"""The requests of each endpoint under test, encoded once before any timing.

A nurse signs in (the real login) and reads a patient of the demo hospital: the REST record, the FHIR
Patient and an Observation search; `auth/me` is the cheapest audited request. Bookings are by the
nurse for the demo's patients into free slots found beforehand, each slot once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

NURSE = ("nurse@demo.ownat.org", "Quiet-Ward-Lamp-19")
WINDOW_DAYS = 7  # slot searches return at most 1,000 slots: a week at a time keeps them complete


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    requests: list[str]  # raw HTTP/1.1 requests; reused in turn, or each sent once (bookings)
    once_each: bool = False
    baseline: bool = False


def _request(method: str, path: str, token: str | None = None, body: dict | None = None) -> str:
    headers = ["Host: bench", "Accept: application/json"]
    if token:
        headers.append(f"Authorization: Bearer {token}")
    payload = "" if body is None else json.dumps(body, separators=(",", ":"))
    if body is not None:
        headers += ["Content-Type: application/json", f"Content-Length: {len(payload.encode())}"]
    return f"{method} {path} HTTP/1.1\r\n" + "\r\n".join(headers) + "\r\n\r\n" + payload


async def build_endpoints(port: int, bookings_wanted: int) -> list[Endpoint]:
    """Signs in, finds a patient and free slots, and encodes every endpoint's requests."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        login = await http.post("/api/v1/auth/login", json={"email": NURSE[0], "password": NURSE[1]})
        login.raise_for_status()
        token = login.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        patients = (await http.get("/api/v1/patients", params={"limit": 50}, headers=auth)).json()["items"]
        patient = patients[0]["id"]
        bookings = await _bookings(http, auth, [p["id"] for p in patients], bookings_wanted)
    return [
        Endpoint("healthz", [_request("GET", "/healthz")], baseline=True),
        Endpoint("auth/me", [_request("GET", "/api/v1/auth/me", token)]),
        Endpoint("patient read", [_request("GET", f"/api/v1/patients/{patient}", token)]),
        Endpoint("FHIR Patient read", [_request("GET", f"/fhir/R4/Patient/{patient}", token)]),
        Endpoint(
            "FHIR Observation search", [_request("GET", f"/fhir/R4/Observation?patient={patient}", token)]
        ),
        Endpoint(
            "booking", [_request("POST", "/api/v1/appointments", token, b) for b in bookings], once_each=True
        ),
    ]


def bare_endpoint() -> Endpoint:
    return Endpoint("bare FastAPI", [_request("GET", "/ping")], baseline=True)


async def _bookings(
    http: httpx.AsyncClient, auth: dict[str, str], patients: list[str], wanted: int
) -> list[dict]:
    """Free slots of one appointment type, each given to a patient in turn (so no patient is double-booked)."""
    kind = (await http.get("/api/v1/appointment-types", headers=auth)).json()[0]["code"]
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    slots: list[dict] = []
    for window in range(52):
        if len(slots) >= wanted:
            break
        begin = start + timedelta(days=WINDOW_DAYS * window)
        found = await http.get(
            "/api/v1/slots",
            params={
                "appointment_type": kind,
                "start": begin.isoformat(),
                "end": (begin + timedelta(days=WINDOW_DAYS)).isoformat(),
                "limit": 1000,
            },
            headers=auth,
        )
        found.raise_for_status()
        slots += found.json()["items"]
    slots.sort(key=lambda slot: slot["start_at"])
    return [
        {
            "patient_id": patients[n % len(patients)],
            "practitioner_id": s["practitioner_id"],
            "appointment_type": kind,
            "start_at": s["start_at"],
        }
        for n, s in enumerate(slots[:wanted])
    ]
