"""Recording with consent as a service: consent, the recorder joining the room, stop and attach."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.documents import FileSystemStorage
from core import audit
from core.access import refuse
from core.errors import Conflict, NotFound
from core.principal import Principal
from core.sessions import transaction
from core.settings import Settings
from realtime.consult import invitations
from realtime.consult.peers import consent
from realtime.consult.peers.attach import attach_recording
from realtime.consult.peers.recorder import Recording, recording_id
from realtime.consult.peers.registry import PeerRegistry
from realtime.consult.peers.room_recorder import RECORDER_NAME, RoomRecorder
from realtime.consult.peers.schemas import RecorderJoined, RecordingState
from realtime.consult.peers.settings import PeerSettings
from realtime.consult.schemas import InvitationCreate
from realtime.consult.server import ConsultServer


@dataclass(frozen=True, slots=True)
class RecordingPlace:
    """What recordings need from the process: its peers, its database and where files go."""

    registry: PeerRegistry
    settings: PeerSettings
    sessions: async_sessionmaker[AsyncSession]
    app_settings: Settings
    consult: ConsultServer | None

    @property
    def data_dir(self) -> Path:
        return self.app_settings.data_dir.absolute()

    @property
    def storage(self) -> FileSystemStorage:
        # The same store as uploaded documents, so a recording downloads like any other document.
        return FileSystemStorage(self.data_dir / "documents")


def _running(place: RecordingPlace, encounter_id: uuid.UUID) -> Recording | None:
    peer = place.registry.get(recording_id(encounter_id))
    return peer if isinstance(peer, Recording) else None


async def _state(session: AsyncSession, place: RecordingPlace, of: consent.PartyOf) -> RecordingState:
    given = await consent.consents(session, of.encounter)
    recording = _running(place, of.encounter.id)
    return RecordingState(
        encounter_id=of.encounter.id,
        patient_consent=given["patient"],
        clinician_consent=given["clinician"],
        recording=recording is not None and recording.recording,
        participants=recording.parties if recording else [],
        started_at=recording.started_at if recording else None,
    )


async def recording_state(
    *, session: AsyncSession, actor: Principal, place: RecordingPlace, encounter_id: uuid.UUID
) -> RecordingState:
    """Consents and the recorder's state, for the encounter's two parties."""
    of = await consent.party_of(session, actor, encounter_id, action="read")
    return await _state(session, place, of)


async def change_consent(
    *, session: AsyncSession, actor: Principal, place: RecordingPlace, encounter_id: uuid.UUID, given: bool
) -> RecordingState:
    """Gives or withdraws the caller's consent; a withdrawal stops a running recording at once."""
    of = await consent.party_of(
        session, actor, encounter_id, action="give_consent" if given else "withdraw_consent"
    )
    consent.record_consent(session, actor, of, given=given)
    if not given:
        await place.registry.close(recording_id(encounter_id))
    state = await _state(session, place, of)
    # The change is committed with this request; the answer already shows it.
    return state.model_copy(update={f"{of.party}_consent": given})


def _require_consents(session: AsyncSession, actor: Principal, of: consent.PartyOf, given: dict) -> None:
    if all(given.values()):
        return
    missing = " and the ".join(f"{party}'s" for party, ok in given.items() if not ok)
    refuse(
        session,
        actor,
        action="record",
        resource_type=consent.RESOURCE,
        resource_id=of.encounter.id,
        patient_id=of.encounter.patient_id,
        message=f"Recording needs the consent of both parties; still missing: the {missing}.",
    )


async def start_in_room(
    *, session: AsyncSession, actor: Principal, place: RecordingPlace, encounter_id: uuid.UUID
) -> RecorderJoined:
    """The clinician sends the recorder into the room's waiting room; refused (audited) without both consents."""
    of = await consent.party_of(session, actor, encounter_id, action="record")
    _require_consents(session, actor, of, await consent.consents(session, of.encounter))
    if of.party != "clinician":
        refuse(
            session,
            actor,
            action="record",
            resource_type=consent.RESOURCE,
            resource_id=encounter_id,
            patient_id=of.encounter.patient_id,
            message="The clinician starts the recorder; patients give consent.",
        )
    room = of.encounter.appointment_id
    if room is None or place.consult is None:
        raise Conflict("This encounter has no video consultation room to record.")
    if _running(place, encounter_id) is not None:
        raise Conflict("This consultation is already being recorded.")
    recording = _new_recording(place, of)
    try:
        ticket = await _recorder_ticket(place, actor, room)
        recorder = RoomRecorder(
            recording=recording,
            room=room,
            ice_urls=place.settings.consult_peer_ice_urls,
            on_gone=lambda: place.registry.close_soon(recording.id),
        )
        participant_id = await recorder.join(place.consult, ticket)
    except BaseException:
        await place.registry.close(recording.id)
        raise
    audit.record(
        session,
        actor=actor,
        action="start_recorder",
        resource_type=consent.RESOURCE,
        resource_id=encounter_id,
        patient_id=of.encounter.patient_id,
        detail={"participant_id": str(participant_id)},
    )
    return RecorderJoined(participant_id=participant_id, display_name=RECORDER_NAME)


async def _recorder_ticket(place: RecordingPlace, actor: Principal, room: uuid.UUID) -> str:
    """A single-use invitation for the recorder, redeemed at once; committed before the recorder joins."""
    async with transaction(place.sessions) as own:
        issued = await invitations.create_invitation(
            session=own,
            actor=actor,
            appointment_id=room,
            new=InvitationCreate(display_name=RECORDER_NAME),
            settings=place.app_settings,
        )
        ticket = await invitations.redeem_invitation(
            session=own, token=issued.token, settings=place.app_settings
        )
    return ticket.ticket


async def stop_recording(
    *, session: AsyncSession, actor: Principal, place: RecordingPlace, encounter_id: uuid.UUID
) -> uuid.UUID | None:
    """Stops the recording; the id of the document it became (None if it never started)."""
    of = await consent.party_of(session, actor, encounter_id, action="stop")
    recording = _running(place, encounter_id)
    if recording is None:
        raise NotFound(f"Encounter {encounter_id} is not being recorded on this server.")
    await place.registry.close(recording.id)
    audit.record(
        session,
        actor=actor,
        action="stop",
        resource_type=consent.RESOURCE,
        resource_id=encounter_id,
        patient_id=of.encounter.patient_id,
        detail={"document_id": str(recording.document_id)},
    )
    return recording.document_id


def _new_recording(place: RecordingPlace, of: consent.PartyOf) -> Recording:
    patient_id, clinician_user_id = of.encounter.patient_id, of.clinician_user_id
    directory = place.data_dir / "recordings"
    directory.mkdir(parents=True, exist_ok=True)

    async def finished(recording: Recording) -> None:
        recording.document_id = await attach_recording(
            sessions=place.sessions,
            storage=place.storage,
            recording=recording,
            patient_id=patient_id,
            clinician_user_id=clinician_user_id,
            max_bytes=place.settings.recording_max_bytes,
        )

    recording = Recording(
        encounter_id=of.encounter.id,
        path=directory / f"{uuid.uuid4()}.webm",
        on_finished=finished,
        size=(place.settings.recording_width, place.settings.recording_height),
    )
    place.registry.admit(recording, lifetime_s=place.settings.recording_max_s)
    return recording
