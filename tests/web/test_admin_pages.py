"""The administration pages, clicked through in headless Chromium by an administrator (and a nurse)."""

from __future__ import annotations

import csv
import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.organisation.models import Bed, Department, Ward
from core.identity.models import User
from core.principal import Role
from core.sessions import transaction
from devices.ingest.models import IngestDeadLetter
from devices.registry.models import Device, DeviceBinding
from realtime.alarms.models import Alarm, AlarmKind, AlarmPriority, AlarmStatus
from tests.analytics.small_hospital import subject
from tests.builders import create_user, login, strong_password, unique_email
from tests.clinical.scheduling_builders import appointment_row, appointment_type, patient_record, practitioner
from tests.core.audit_support import seal_everything
from tests.web.conftest import LiveServer
from tests.web.test_portal import sign_in


async def admin_signed_in(page: Page, server: LiveServer, sessions: async_sessionmaker[AsyncSession]) -> User:
    admin, password = await create_user(sessions, role=Role.ADMIN, full_name="Ada Admin")
    await sign_in(page, server, admin.email, password)
    await expect(page).to_have_url(server.url + "/staff/")
    return admin


async def test_an_admin_sets_up_a_nurse_a_ward_and_a_device(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await admin_signed_in(page, live_server, sessions)
    await page.get_by_role("link", name="Administration").click()
    await expect(page).to_have_url(live_server.url + "/admin/")
    nav = page.get_by_role("navigation", name="Administration")

    # A nurse account; the server's refusal of a weak password is shown with its detail first.
    await nav.get_by_role("link", name="Staff accounts").click()
    await expect(nav.get_by_role("link", name="Staff accounts")).to_have_attribute("aria-current", "page")
    form = page.locator("#user-form")
    email = unique_email("nurse")
    await form.get_by_label("Full name").fill("Nora Nurse")
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Initial password").fill("short1")
    await form.get_by_label("Role").select_option("nurse")
    await form.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("alert")).to_contain_text("password")
    await form.get_by_label("Initial password").fill(strong_password())
    await form.get_by_role("button", name="Create account").click()
    await expect(page.locator("#messages")).to_contain_text("Account created for Nora Nurse (nurse)")
    async with sessions() as session:
        nurse = await session.scalar(select(User).where(User.email == email))
        assert nurse is not None and nurse.role is Role.NURSE and nurse.is_active
    row = page.locator(f"#users-table tr[data-user-id='{nurse.id}']")
    await expect(row).to_contain_text(email)
    await row.get_by_label("Role of Nora Nurse").select_option("clinician")
    await row.get_by_role("button", name="Change role").click()
    await expect(page.locator("#messages")).to_contain_text("Nora Nurse is now clinician")
    await row.get_by_label("Role of Nora Nurse").select_option("nurse")
    await row.get_by_role("button", name="Change role").click()
    await expect(page.locator("#messages")).to_contain_text("Nora Nurse is now nurse")
    await row.get_by_role("button", name="Deactivate").click()
    await expect(row).to_contain_text("Deactivated")
    async with sessions() as session:
        changed = await session.get(User, nurse.id)
        assert changed is not None and changed.is_active is False and changed.role is Role.NURSE

    # A department, a ward in it and two beds.
    tag = uuid.uuid4().hex[:6].upper()
    await nav.get_by_role("link", name="Departments and wards").click()
    await page.get_by_label("Department code").fill(f"D{tag}")
    await page.get_by_label("Department name").fill(f"Cardiology {tag}")
    await page.get_by_role("button", name="Add department").click()
    await expect(page.locator("#departments-table")).to_contain_text(f"Cardiology {tag}")
    await (
        page.locator("#ward-form")
        .get_by_label("Department")
        .select_option(label=f"Cardiology {tag} (D{tag})")
    )
    await page.get_by_label("Ward code").fill(f"W{tag}")
    await page.get_by_label("Ward name").fill(f"Ward {tag}")
    await page.get_by_role("button", name="Add ward").click()
    await expect(page.locator("#wards-table")).to_contain_text(f"Ward {tag}")
    for label in ("A1", "A2"):
        await page.get_by_label(f"New bed label on W{tag}").fill(label)
        await page.get_by_role("button", name="Add bed").click()
        await expect(page.locator("#beds-table")).to_contain_text(label)
    await expect(page.locator("#beds-table tbody tr")).to_have_count(2)
    async with sessions() as session:
        ward = await session.scalar(select(Ward).where(Ward.code == f"W{tag}"))
        department = await session.scalar(select(Department).where(Department.code == f"D{tag}"))
        assert ward is not None and department is not None and ward.department_id == department.id
        beds = (await session.scalars(select(Bed).where(Bed.ward_id == ward.id))).all()
        assert sorted(b.label for b in beds) == ["A1", "A2"]

    # A device: registered, given a secret shown once, placed at bed A1, seen in the list.
    device_id = f"mon-{tag.lower()}"
    await nav.get_by_role("link", name="Devices").click()
    form = page.locator("#device-form")
    await form.get_by_label("Device id").fill(device_id)
    await form.get_by_label("Kind").select_option("bedside_monitor")
    await form.get_by_label("Manufacturer").fill("Testmed")
    await form.get_by_label("Model").fill("VitalView 5")
    await form.get_by_label("Serial number").fill(f"SN-{tag}")
    await form.get_by_role("button", name="Register device").click()
    await expect(page.locator("#messages")).to_contain_text(f"Device {device_id} registered")
    row = page.locator(f"#devices-table tr[data-device-id='{device_id}']")
    await expect(row).to_contain_text("Not bound")
    await row.get_by_role("button", name="Issue secret").click()
    secret = page.locator("#device-secret")
    await expect(secret).to_have_text(re.compile(r"\S{20,}"))
    await expect(row).to_contain_text("Rotate secret")
    await page.get_by_role("button", name="I have stored it").click()
    await expect(secret).to_have_count(0)
    await row.get_by_role("button", name="Place at a bed").click()
    bind = page.locator("#bind-form")
    await bind.get_by_label("Ward").select_option(label=f"Ward {tag} (W{tag})")
    # By name, not by the label "Bed": a label's text includes its select's options, so a ward another
    # test named with "bed" in it would make the ward picker match too.
    bed_picker = bind.locator("select[name=bed_id]")
    await expect(bed_picker.locator("option")).to_have_count(2)
    await bed_picker.select_option(label="A1")
    await bind.get_by_role("button", name="Place device").click()
    await expect(row).to_contain_text(f"bed A1, ward W{tag}")
    async with sessions() as session:
        device = await session.scalar(select(Device).where(Device.device_id == device_id))
        binding = await session.scalar(select(DeviceBinding).where(DeviceBinding.device_uuid == device.id))
        a1 = next(b for b in beds if b.label == "A1")
        assert binding.bed_id == a1.id and binding.patient_id is None and binding.end_at is None

    # A reload lists it from the server, still bound; then it is revoked with a reason.
    await page.reload()
    row = page.locator(f"#devices-table tr[data-device-id='{device_id}']")
    await expect(row).to_contain_text(f"ward W{tag}")
    await row.get_by_role("button", name="Revoke").click()
    await page.get_by_label(f"Reason to revoke {device_id}").fill("Lost on the ward")
    await page.locator("#status-form").get_by_role("button", name="Revoke").click()
    await expect(page.locator("#messages")).to_contain_text("is revoked")
    await expect(row).to_contain_text("revoked (Lost on the ward)")
    await expect(row).to_contain_text("Not bound")  # revoking ends the binding


async def test_an_admin_filters_the_audit_log_and_checks_the_chain(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_signed_in(page, live_server, sessions)
    await page.goto(live_server.url + "/admin/audit/")
    await expect(page.locator("#audit-table")).to_be_visible()
    filters = page.locator("#audit-filter")
    await filters.get_by_label("Action").fill("login")
    await filters.get_by_label("Actor (user id)").fill(str(admin.id))
    await filters.get_by_role("button", name="Apply filters").click()
    rows = page.locator("#audit-table tbody tr")
    await expect(rows).to_have_count(1)  # this admin signed in once
    await expect(rows.first).to_contain_text("login")
    # The actor by name and role, not by id.
    await expect(rows.first).to_contain_text(f"{admin.full_name} (administrator)")

    await filters.get_by_label("Action").fill("no-such-action")
    await filters.get_by_role("button", name="Apply filters").click()
    await expect(page.locator("#audit-events")).to_contain_text("No entries match these filters.")

    # A malformed filter is refused by the server, and its explanation is shown.
    await filters.get_by_label("Actor (user id)").fill("not-a-user-id")
    await filters.get_by_role("button", name="Apply filters").click()
    await expect(page.get_by_role("alert")).to_contain_text("Actor (user id)")

    await seal_everything(sessions)
    await page.get_by_role("button", name="Check the chain").click()
    # The check rehashes every entry the whole run has written so far: seconds on a busy machine.
    await expect(page.locator("#chain-result")).to_contain_text("The chain is intact", timeout=60_000)

    # A checkpoint downloaded now, and the log later checked against it.
    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Download a checkpoint").click()
    saved = await (await downloading.value).path()
    await page.get_by_label("Saved checkpoint").set_input_files(saved)
    await page.get_by_role("button", name="Check against this checkpoint").click()
    await expect(page.locator("#chain-result")).to_contain_text("It still holds the checkpoint of seal")


async def test_the_system_page_shows_a_stored_dead_letter(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await admin_signed_in(page, live_server, sessions)
    tag = uuid.uuid4().hex[:8]
    async with transaction(sessions) as session:
        session.add(
            IngestDeadLetter(
                topic=f"ownat/devices/ghost-{tag}/vitals",
                device_id=f"ghost-{tag}",
                payload=b"{}",
                payload_size=2,
                reason_code="unknown-device",
                reason=f"device ghost-{tag} is not registered",
            )
        )
    await page.goto(live_server.url + "/admin/system/")
    letter = page.locator("#dead-letters-table tbody tr", has_text=f"ghost-{tag}")
    await expect(letter).to_contain_text(f"unknown-device: device ghost-{tag} is not registered")
    await expect(page.locator("#reasons-table")).to_contain_text("unknown-device")
    await expect(page.locator("#dead-unresolved")).not_to_have_text("0")
    # The notification backlog comes from the outbox: a count, whatever other tests left in it.
    await expect(page.locator("#notifications-pending")).to_have_text(re.compile(r"^\s*\d+\s*$"))


# A week no other test uses, so the report holds only this test's alarms.
WEEK = datetime(2011, 5, 2, tzinfo=UTC)


async def test_an_analytics_report_is_charted_and_downloads_as_csv(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ward_name = f"Report ward {uuid.uuid4().hex[:6]}"
    async with transaction(sessions) as session:
        department = Department(code=f"R{uuid.uuid4().hex[:6]}", name="Reports")
        patient = subject()
        session.add_all([department, patient])
        await session.flush()
        ward = Ward(department_id=department.id, code=f"RW{uuid.uuid4().hex[:6]}", name=ward_name)
        session.add(ward)
        await session.flush()
        plan = [(AlarmPriority.HIGH, 1, 30), (AlarmPriority.HIGH, 2, 90), (AlarmPriority.MEDIUM, 3, None)]
        for index, (priority, day, wait_s) in enumerate(plan):
            raised = WEEK + timedelta(days=day, hours=8)
            session.add(
                Alarm(
                    patient_id=patient.id, ward_id=ward.id, kind=AlarmKind.THRESHOLD,
                    condition_key=f"admin-page:{ward.id}:{index}", code="hr-high", priority=priority,
                    status=AlarmStatus.RESOLVED, raised_at=raised,
                    acknowledged_at=raised + timedelta(seconds=wait_s) if wait_s else None,
                    resolved_at=raised + timedelta(minutes=10),
                )
            )  # fmt: skip
    await admin_signed_in(page, live_server, sessions)
    await page.goto(live_server.url + "/admin/analytics/")
    form = page.locator("#report-form")
    await form.get_by_label("Report").select_option("alarms-by-ward")
    await form.get_by_label("From (UTC day)").fill("2011-05-02")
    await form.get_by_label("To (UTC day, included)").fill("2011-05-08")
    await form.get_by_role("button", name="Show report").click()

    table = page.locator("#report-table")
    await expect(table.locator("tbody tr")).to_have_count(2)
    high = table.locator("tbody tr", has_text="high")
    cells = [await c.text_content() for c in await high.locator("td").all()]
    # ward, priority, alarms, acknowledged, never, escalated, mean and median seconds
    assert cells[:8] == [ward_name, "High", "2", "2", "0", "0", "60", "60"]
    medium = [
        await c.text_content() for c in await table.locator("tbody tr", has_text="medium").locator("td").all()
    ]
    assert medium[:5] == [ward_name, "Medium", "1", "0", "1"]

    # The chart draws one bar per row, longest for the larger figure.
    await page.get_by_label("Chart column").select_option(label="alarms")
    bars = page.locator("#report-chart svg rect.bar")
    await expect(bars).to_have_count(2)
    widths = [float(await bar.get_attribute("width")) for bar in await bars.all()]
    assert widths[0] == 2 * widths[1]  # high (2 alarms) is listed before medium (1)
    await expect(page.locator("#report-chart svg title")).to_have_text(
        "Alarms per ward and time to acknowledge: alarms"
    )

    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Download CSV").click()
    download = await waiting.value
    assert download.suggested_filename == "alarms-by-ward_2011-05-02_2011-05-09.csv"
    text = (await download.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    assert rows[0][:3] == ["ward", "priority", "alarms"]
    assert [ward_name, "high", "2", "2", "0", "0"] == rows[1][:6]


async def test_a_nurse_is_refused_the_administration_pages(
    page: Page,
    live_server: LiveServer,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    nurse, password = await create_user(sessions, role=Role.NURSE, full_name="Nico Nurse")
    await sign_in(page, live_server, nurse.email, password)
    await expect(page).to_have_url(live_server.url + "/staff/")
    # The staff home does not offer administration to a nurse; the address typed in is refused.
    await expect(page.locator("#staff-pages a").first).to_be_visible()
    await expect(page.get_by_role("link", name="Administration")).to_have_count(0)
    await page.goto(live_server.url + "/admin/")
    await expect(page.get_by_role("alert")).to_contain_text("Administrators only")
    await page.goto(live_server.url + "/admin/users/")
    refused = page.get_by_role("alert")
    await expect(refused).to_contain_text("Administrators only")
    await expect(refused).to_contain_text("signed in as nurse")
    await expect(page.locator("#users-table")).to_have_count(0)
    await expect(page.get_by_role("navigation", name="Administration")).to_be_hidden()

    headers = await login(client, nurse.email, password)
    for path in (
        "/api/v1/users",
        "/api/v1/system/status",
        "/api/v1/audit/events",
        "/api/v1/analytics/reports",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 403, path
        assert response.json()["detail"]


UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def test_an_admin_creates_a_billing_clerk_who_signs_in_and_reads_names_not_ids(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    doctor = await practitioner(sessions)
    (patient_id,) = await patient_record(sessions)
    kind = await appointment_type(sessions)
    await appointment_row(
        sessions,
        patient_id=patient_id,
        practitioner_id=doctor.id,
        kind=kind,
        start_at=datetime(2012, 3, 6, 9, tzinfo=UTC),
    )
    await admin_signed_in(page, live_server, sessions)

    # A billing clerk's account, with the role in words.
    await page.goto(live_server.url + "/admin/users/")
    form = page.locator("#user-form")
    email, password = unique_email("clerk"), strong_password()
    await form.get_by_label("Full name").fill("Bea Billing")
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Initial password").fill(password)
    await form.get_by_label("Role").select_option(label="Billing clerk")
    await form.get_by_role("button", name="Create account").click()
    await expect(page.locator("#messages")).to_contain_text("Account created for Bea Billing (billing clerk)")
    await expect(page.locator("#users-table tr", has_text=email)).to_contain_text("Billing clerk")

    # The audit log names who did it and to whom.
    await page.goto(live_server.url + "/admin/audit/")
    filters = page.locator("#audit-filter")
    await filters.get_by_label("Resource type").fill("user")
    await filters.get_by_label("Action").fill("create")
    await filters.get_by_role("button", name="Apply filters").click()
    entry = page.locator("#audit-table tbody tr").first
    await expect(entry).to_contain_text("Ada Admin (administrator)")
    await expect(entry).to_contain_text("user Bea Billing")

    # Analytics by practitioner: the practitioner's name in the table and on the chart, no ids.
    await page.goto(live_server.url + "/admin/analytics/")
    report = page.locator("#report-form")
    await report.get_by_label("Report").select_option("appointments-by-practitioner")
    await report.get_by_label("From (UTC day)").fill("2012-03-05")
    await report.get_by_label("To (UTC day, included)").fill("2012-03-11")
    await report.get_by_role("button", name="Show report").click()
    name = f"{doctor.family_name}, {doctor.given_name}"
    await expect(page.locator("#report-table tbody tr")).to_contain_text(name)
    await expect(page.locator("#report-chart svg g").first).to_have_attribute(
        "data-label", re.compile(f"^{name}")
    )
    assert not UUID_TEXT.search(await page.locator("#report").inner_text())

    # The clerk signs in and lands in the billing office.
    await page.get_by_role("button", name="Sign out").click()
    # Signing out navigates to the sign-in page: a navigation of our own before it lands is aborted.
    await expect(page).to_have_url(live_server.url + "/")
    await sign_in(page, live_server, email, password)
    await expect(page).to_have_url(re.compile(r"/billing/"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Billing office")
    await expect(page.get_by_test_id("user-name")).to_have_text("Bea Billing")
