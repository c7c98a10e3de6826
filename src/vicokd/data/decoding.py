"""Decoding one view's mp4 with PyAV in a single pass: frames at 2.5 FPS and, for a model that
hears, 16 kHz mono audio."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from vicokd.data.annotations import SAMPLE_FPS, RecordingError

#: Decoded frame counts may fall short of the container's count by this many frames (rounding of
#: the last GOP by some muxers); a larger shortfall means a truncated file.
TRUNCATION_SLACK = 2

NO_AUDIO = "no_audio"


@dataclass(frozen=True)
class DecodedView:
    """One view, decoded.

    frames: ``(n, H, W, 3)`` uint8, every ``stride``-th decoded frame, resized.
    audio: ``(S,)`` float32 mono waveform at ``sample_rate`` Hz; None when decoded without audio.
    native_fps: the video stream's average frame rate; native_frames: frames decoded.
    """

    frames: np.ndarray
    audio: np.ndarray | None
    native_fps: float
    native_frames: int

    @property
    def duration(self) -> float:
        """Seconds of video decoded."""
        return self.native_frames / self.native_fps


def sampling_stride(native_fps: float, sample_fps: float = SAMPLE_FPS) -> int:
    """Keep every ``round(native_fps / sample_fps)``-th decoded frame (at least every frame)."""
    return max(1, round(native_fps / sample_fps))


def decode_view(
    path: str | Path,
    image_size: tuple[int, int],
    sample_rate: int = 16000,
    sample_fps: float = SAMPLE_FPS,
    with_audio: bool = True,
) -> DecodedView:
    """Decode ``path`` once: video frames at ``sample_fps`` resized to ``image_size`` ``(H, W)``,
    and, ``with_audio``, the first audio stream downmixed to mono and resampled to ``sample_rate``.
    Without audio (for a model that hears none: a deployed student) the audio stream, if any, is
    not read.

    Raises RecordingError (naming the file) when the file is missing, unreadable or truncated, or
    has no video stream, or ``with_audio`` no audio stream (for training every view's audio is
    read: by the teacher, and by the students distilled from it).
    """
    path = Path(path)
    if not path.is_file():
        raise RecordingError(path, "view file is missing", "missing_view")
    height, width = (int(s) for s in image_size)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise RecordingError(path, "no video stream", "unreadable_mp4")
            video = container.streams.video[0]
            video.thread_type = "AUTO"
            if with_audio and not container.streams.audio:
                problem = "no audio stream (every view needs its audio)"
                raise RecordingError(path, problem, NO_AUDIO)
            streams = (video, container.streams.audio[0]) if with_audio else (video,)
            rate = video.average_rate or video.guessed_rate
            if not rate:
                raise RecordingError(path, "video stream has no frame rate", "unreadable_mp4")
            native_fps = float(rate)
            stride = sampling_stride(native_fps, sample_fps)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            reformatter = VideoReformatter()  # keeps its scaling context across frames
            frames: list[np.ndarray] = []
            chunks: list[np.ndarray] = []
            decoded = 0
            for packet in container.demux(*streams):
                for frame in packet.decode():
                    if packet.stream.type == "video":
                        if decoded % stride == 0:
                            rgb = reformatter.reformat(
                                frame, width=width, height=height, format="rgb24"
                            )
                            frames.append(rgb.to_ndarray())
                        decoded += 1
                    else:
                        chunks.extend(r.to_ndarray()[0] for r in resampler.resample(frame))
            chunks.extend(r.to_ndarray()[0] for r in resampler.resample(None))
            expected = video.frames
    except av.FFmpegError as error:
        problem = f"unreadable or corrupt mp4 ({error})"
        raise RecordingError(path, problem, "unreadable_mp4") from error
    if decoded == 0:
        raise RecordingError(path, "no video frame could be decoded", "unreadable_mp4")
    if expected and decoded < expected - TRUNCATION_SLACK:
        problem = f"truncated: decoded {decoded} of {expected} frames"
        raise RecordingError(path, problem, "truncated_mp4")
    if not with_audio:
        return DecodedView(np.stack(frames), None, native_fps, decoded)
    if not chunks:
        raise RecordingError(path, "its audio stream holds no samples", NO_AUDIO)
    waveform = np.concatenate(chunks).astype(np.float32)
    return DecodedView(np.stack(frames), waveform, native_fps, decoded)
