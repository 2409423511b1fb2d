"""The admin devices page shows each device's standard identifiers, and registers them (Chromium)."""

from __future__ import annotations

import secrets

from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.principal import Role
from devices.registry.models import Device
from tests.builders import create_user
from tests.web.conftest import LiveServer
from tests.web.test_portal import sign_in

UDI = "(01)00643169007222(17)300128(21)BLC200461H"


async def test_an_admin_registers_a_device_with_its_eui64_and_udi_and_sees_them_listed(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    admin, password = await create_user(sessions, role=Role.ADMIN, full_name="Ada Admin")
    await sign_in(page, live_server, admin.email, password)
    await expect(page).to_have_url(live_server.url + "/staff/")
    await page.get_by_role("link", name="Administration").click()
    await page.get_by_role("navigation", name="Administration").get_by_role("link", name="Devices").click()
    tag = secrets.token_hex(4)
    device_id = f"sdc-{tag}"
    # The EUI-64 is unique in the registry, which other tests share: this run's own, from the tag.
    eui = f"001BC5FF{tag.upper()}"
    typed = ":".join(eui[i : i + 2] for i in range(0, 16, 2)).lower()
    shown = "-".join(eui[i : i + 2] for i in range(0, 16, 2))
    form = page.locator("#device-form")
    await form.get_by_label("Device id").fill(device_id)
    await form.get_by_label("Kind").select_option("bedside_monitor")
    await form.get_by_label("Manufacturer").fill("Draegerwerk")
    await form.get_by_label("Model", exact=True).fill("Infinity M540")
    await form.get_by_label("Serial number").fill(f"SN-{tag}")
    # Half an EUI-64: refused, and the message says what an EUI-64 is.
    await form.get_by_label("EUI-64 (optional)").fill("00-1B-C5")
    await form.get_by_role("button", name="Register device").click()
    await expect(page.get_by_role("alert")).to_contain_text("16 hexadecimal digits")
    # Typed with colons and in lower case, as a network tool prints it.
    await form.get_by_label("EUI-64 (optional)").fill(typed)
    await form.get_by_label("UDI (optional)").fill(UDI)
    await form.get_by_role("button", name="Register device").click()
    await expect(page.locator("#messages")).to_contain_text(f"Device {device_id} registered")
    row = page.locator(f"#devices-table tr[data-device-id='{device_id}']")
    await expect(row).to_contain_text("Draegerwerk Infinity M540")
    await expect(row).to_contain_text(f"Serial SN-{tag}")
    await expect(row).to_contain_text(f"EUI-64 {shown}")
    await expect(row).to_contain_text(f"UDI {UDI}")
    async with sessions() as session:
        stored = await session.scalar(select(Device).where(Device.device_id == device_id))
    assert stored is not None and (stored.eui64, stored.udi) == (eui, UDI)
    # After a reload, from the server: the identifiers are still there.
    await page.reload()
    row = page.locator(f"#devices-table tr[data-device-id='{device_id}']")
    await expect(row).to_contain_text(f"EUI-64 {shown}")
