"""Writing live aiortc tracks to one WebM file: VP8 video at a fixed size and Opus audio.

We do not use aiortc's MediaRecorder here. With several video streams in one file it lets the
container open every encoder when the first packet is written, before the other tracks' first frames
have set their sizes, and those tracks then fail ("Cannot change width after codec is open") and are
silently missing from the file. It also encodes on the event loop, which stalls signalling while
VP8 works. This writer fixes each video stream's size up front (frames are scaled to it, as browsers
change resolution mid-call), and encodes in a worker thread, one frame at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame
from av.container import OutputContainer
from av.frame import Frame
from av.stream import Stream

# Real time rather than libvpx's default "good" quality: two live cameras must keep pace.
VP8_REALTIME = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}


class WebmWriter:
    """One file; `add_track` for each track, then `start`, and `stop` to flush and close it."""

    def __init__(self, path: Path, *, width: int, height: int, video_bit_rate: int) -> None:
        self._container: OutputContainer = av.open(str(path), mode="w", format="webm")
        self._size = (width, height)
        self._video_bit_rate = video_bit_rate
        self._tracks: list[tuple[MediaStreamTrack, Stream]] = []
        self._tasks: list[asyncio.Task[None]] = []
        # The container is not thread-safe: one encode-and-write at a time.
        self._lock = asyncio.Lock()
        self.progress = asyncio.Condition()
        self.frames = {"audio": 0, "video": 0}

    def add_track(self, track: MediaStreamTrack) -> None:
        stream: Stream
        if track.kind == "video":
            video = self._container.add_stream("libvpx", rate=30)
            video.width, video.height = self._size
            video.pix_fmt = "yuv420p"
            video.bit_rate = self._video_bit_rate
            video.codec_context.options = dict(VP8_REALTIME)
            stream = video
        else:
            stream = self._container.add_stream("libopus", rate=48000)
        self._tracks.append((track, stream))

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(track, stream)) for track, stream in self._tracks]

    async def _run(self, track: MediaStreamTrack, stream: Stream) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return  # the party hung up: their streams simply end
            if not isinstance(frame, Frame):
                continue  # encoded packets are never handed to a receiver's track; nothing to write
            async with self._lock:
                # Encoding is CPU work: off the event loop, so signalling and other calls stay responsive.
                await asyncio.to_thread(self._write, stream, frame)
            async with self.progress:
                self.frames[track.kind] += 1
                self.progress.notify_all()

    def _write(self, stream: Stream, frame: Frame) -> None:
        if isinstance(frame, VideoFrame) and (frame.width, frame.height) != self._size:
            scaled = frame.reformat(width=self._size[0], height=self._size[1], format="yuv420p")
            scaled.pts, scaled.time_base = frame.pts, frame.time_base
            frame = scaled
        for packet in stream.encode(frame):  # type: ignore[attr-defined]
            self._container.mux(packet)

    async def stop(self) -> None:
        """Stops reading, flushes the encoders and closes the file."""
        # Holding the lock, no frame is being written: a cancelled task cannot leave a worker thread
        # still using the container while it is flushed and closed.
        async with self._lock:
            for task in self._tasks:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await asyncio.to_thread(self._finish)

    def _finish(self) -> None:
        try:
            for _, stream in self._tracks:
                if stream.codec_context.is_open:
                    for packet in stream.encode(None):  # type: ignore[attr-defined]
                        self._container.mux(packet)
        finally:
            self._container.close()
