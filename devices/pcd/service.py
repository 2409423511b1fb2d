"""The PCD-01 receiver as other packages use it: recognise a message, and build the receiver."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from devices.pcd.identify import DeviceFinder
from devices.pcd.receiver import PcdReceiver, ReadingInlet
from devices.pcd.report import is_pcd01

__all__ = ["PcdReceiver", "ReadingInlet", "is_pcd01", "open_receiver"]


def open_receiver(*, sessions: async_sessionmaker[AsyncSession], inlet: ReadingInlet) -> PcdReceiver:
    """A receiver feeding `inlet` (the process's ingest worker), finding devices through `sessions`."""
    return PcdReceiver(inlet=inlet, finder=DeviceFinder(sessions))
