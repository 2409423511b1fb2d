"""Recording with consent as a service: consent, the parties' media connections, stop and attach."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.documents.storage import FileSystemStorage
from core.access import refuse
from core.audit import service as audit
from core.db import utc_now
from core.errors import NotFound
from core.identity.principal import Principal
from realtime.consult.peers import consent
from realtime.consult.peers.attach import attach_recording
from realtime.consult.peers.recorder import Recording, recording_id
from realtime.consult.peers.registry import PeerRegistry
from realtime.consult.peers.schemas import PeerAnswer, RecordingState, SessionOffer
from realtime.consult.peers.settings import PeerSettings


@dataclass(frozen=True, slots=True)
class RecordingPlace:
    """What recordings need from the process: its peers, its database and where files go."""

    registry: PeerRegistry
    settings: PeerSettings
    sessions: async_sessionmaker[AsyncSession]
    data_dir: Path

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


async def connect_media(
    *,
    session: AsyncSession,
    actor: Principal,
    place: RecordingPlace,
    encounter_id: uuid.UUID,
    offer: SessionOffer,
) -> PeerAnswer:
    """Answers a party's send-only offer; refused (audited) unless both parties have consented."""
    of = await consent.party_of(session, actor, encounter_id, action="record")
    given = await consent.consents(session, of.encounter)
    if not all(given.values()):
        missing = " and the ".join(f"{party}'s" for party, ok in given.items() if not ok)
        refuse(
            session,
            actor,
            action="record",
            resource_type=consent.RESOURCE,
            resource_id=encounter_id,
            patient_id=of.encounter.patient_id,
            message=f"Recording needs the consent of both parties; still missing: the {missing}.",
        )
    recording = _running(place, encounter_id)
    if recording is None:
        recording = _new_recording(place, of)
        try:
            sdp = await recording.connect(of.party, offer.sdp)
        except BaseException:
            await place.registry.close(recording.id)
            raise
    else:
        sdp = await recording.connect(of.party, offer.sdp)
    audit.record(
        session,
        actor=actor,
        action="record",
        resource_type=consent.RESOURCE,
        resource_id=encounter_id,
        patient_id=of.encounter.patient_id,
        detail={"party": of.party},
    )
    expires_at = utc_now() + timedelta(seconds=place.settings.recording_max_s)
    return PeerAnswer(peer_id=recording.id, sdp=sdp, expires_at=expires_at)


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
        ice_urls=place.settings.consult_peer_ice_urls,
        on_finished=finished,
    )
    place.registry.admit(recording, lifetime_s=place.settings.recording_max_s)
    return recording
