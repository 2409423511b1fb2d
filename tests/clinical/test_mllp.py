"""The MLLP listener over real TCP sockets on a free port, filing into the real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.lab.mllp import END_BLOCK, START_BLOCK, MllpServer, frame
from clinical.lab.terms import MessageStatus
from core.db import create_engine
from core.resources import Resources
from core.sessions import create_sessionmaker
from tests.builders import http_client
from tests.clinical.builders import create_patient
from tests.clinical.lab_builders import (
    GLUCOSE,
    POTASSIUM,
    Clinician,
    Obx,
    Oru,
    ack_segments,
    clinician,
    lab_order,
    messages_with_control_id,
    messages_with_raw,
    oru_for,
    results_of,
)

Sessions = async_sessionmaker[AsyncSession]
# Only a guard against a hang if the listener were broken; no test measures time.
GUARD_S = 30


@pytest.fixture(scope="module")
async def doctor(app: FastAPI, resources: Resources) -> Clinician:
    async with http_client(app) as client:
        return await clinician(client, resources.sessions)


@pytest.fixture
async def listener(sessions: Sessions) -> AsyncIterator[MllpServer]:
    async with MllpServer(sessions=sessions, host="127.0.0.1", port=0, max_message_bytes=20_000) as server:
        yield server


async def connect(server: MllpServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


async def read_ack(reader: asyncio.StreamReader) -> dict[str, list[str]]:
    framed = await asyncio.wait_for(reader.readuntil(END_BLOCK), GUARD_S)
    assert framed.startswith(START_BLOCK)
    return ack_segments(framed[1 : -len(END_BLOCK)].decode())


async def a_message(sessions: Sessions, doctor: Clinician, *observations: Obx) -> Oru:
    patient = await create_patient(sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor)
    return oru_for(order, patient, *observations)


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    await writer.wait_closed()


async def test_two_messages_on_one_connection_get_two_acks(
    listener: MllpServer, sessions: Sessions, doctor: Clinician
) -> None:
    first = await a_message(sessions, doctor, Obx(GLUCOSE, "101", flag="H"))
    second = await a_message(
        sessions, doctor, Obx(GLUCOSE, "88", flag="N"), Obx(POTASSIUM, "4.0", unit="mmol/L")
    )
    reader, writer = await connect(listener)

    writer.write(frame(first.text()) + frame(second.text()))
    await writer.drain()
    acks = [await read_ack(reader), await read_ack(reader)]
    await close(writer)

    assert [(a["MSA"][1], a["MSA"][2]) for a in acks] == [("AA", first.control_id), ("AA", second.control_id)]
    [stored] = await messages_with_control_id(sessions, second.control_id)
    assert (stored.channel, stored.status, stored.received_by) == ("mllp", MessageStatus.ACCEPTED, None)
    assert len(await results_of(sessions, stored.order_id)) == 2  # type: ignore[arg-type]


async def test_a_garbage_frame_is_ar_and_the_next_one_is_filed(
    listener: MllpServer, sessions: Sessions, doctor: Clinician
) -> None:
    good = await a_message(sessions, doctor, Obx(GLUCOSE, "99"))
    garbage = f"hello {good.control_id}"
    reader, writer = await connect(listener)

    writer.write(frame(garbage))
    rejected = await read_ack(reader)
    writer.write(frame(good.text()))
    accepted = await read_ack(reader)
    await close(writer)

    assert rejected["MSA"][1] == "AR" and accepted["MSA"][1:3] == ["AA", good.control_id]
    [kept] = await messages_with_raw(sessions, garbage)
    assert kept.status is MessageStatus.REJECTED and kept.channel == "mllp"


async def test_an_unterminated_frame_is_kept_and_the_sender_hears_about_its_next_one(
    listener: MllpServer, sessions: Sessions, doctor: Clinician
) -> None:
    good = await a_message(sessions, doctor, Obx(GLUCOSE, "70"))
    broken = good.text()[:60]  # cut short: no end block before the sender starts over
    reader, writer = await connect(listener)

    writer.write(START_BLOCK + broken.encode() + frame(good.text()))
    ack = await read_ack(reader)
    await close(writer)

    assert ack["MSA"][1:3] == ["AA", good.control_id]
    [kept] = await messages_with_raw(sessions, broken)
    assert kept.status is MessageStatus.REJECTED and "start block" in (kept.reason or "")
    [filed] = await messages_with_control_id(sessions, good.control_id)
    assert filed.status is MessageStatus.ACCEPTED  # the cut-short copy was not filed


async def test_an_oversized_frame_is_refused_and_the_listener_carries_on(
    listener: MllpServer, sessions: Sessions, doctor: Clinician
) -> None:
    reader, writer = await connect(listener)
    writer.write(START_BLOCK + b"MSH|" + b"X" * 30_000 + END_BLOCK)
    await writer.drain()
    refused = await read_ack(reader)
    assert await asyncio.wait_for(reader.read(), GUARD_S) == b""  # that connection is closed
    await close(writer)

    good = await a_message(sessions, doctor, Obx(GLUCOSE, "90"))
    reader, writer = await connect(listener)
    writer.write(frame(good.text()))
    accepted = await read_ack(reader)
    await close(writer)

    assert refused["MSA"][1] == "AR" and "longer than" in refused["ERR"][8]
    assert accepted["MSA"][1] == "AA"


async def test_a_frame_cut_off_by_the_sender_is_kept(sessions: Sessions, doctor: Clinician) -> None:
    first = await a_message(sessions, doctor, Obx(GLUCOSE, "93"))
    cut = await a_message(sessions, doctor, Obx(GLUCOSE, "94"))
    server = MllpServer(sessions=sessions, port=0)
    await server.start()
    reader, writer = await connect(server)
    writer.write(frame(first.text()))
    assert (await read_ack(reader))["MSA"][1] == "AA"  # the listener now serves this connection
    writer.write(START_BLOCK + cut.text().encode())
    await close(writer)
    await server.stop(grace_s=GUARD_S)  # lets the connection's handler finish with what it read

    [kept] = await messages_with_control_id(sessions, cut.control_id)
    assert kept.status is MessageStatus.REJECTED and "closed before the end block" in (kept.reason or "")


async def test_an_unusable_database_is_answered_ae_never_aa(
    databases, sessions: Sessions, doctor: Clinician
) -> None:
    good = await a_message(sessions, doctor, Obx(GLUCOSE, "92"))
    engine = create_engine(databases.create("mllp_unmigrated"))  # a real database without our tables
    try:
        async with MllpServer(sessions=create_sessionmaker(engine), port=0) as server:
            reader, writer = await connect(server)
            writer.write(frame(good.text()))
            ack = await read_ack(reader)
            await close(writer)
    finally:
        await engine.dispose()

    assert ack["MSA"][1:3] == ["AE", good.control_id]
    assert ack["ERR"][3].startswith("207^")
