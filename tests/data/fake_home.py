"""Writing tiny MultiSensor-Home style datasets with PyAV (real mp4 files, H.264 + AAC)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

WIDTH, HEIGHT = 40, 32


def view_colour(view: int) -> int:
    """The grey level of every pixel of view ``view`` (1..5), so tests can tell views apart."""
    return 40 * view


def write_view(
    path: Path,
    n_frames: int,
    fps: int,
    grey: int,
    audio: bool = True,
    seconds_of_audio: float | None = None,
) -> None:
    """An mp4 of ``n_frames`` flat ``grey`` frames at ``fps`` and, when ``audio``, a 440 Hz tone at 16 kHz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        sound = None
        if audio:
            sound = container.add_stream("aac", rate=16000)
            sound.layout = "mono"
        for _ in range(n_frames):
            image = np.full((HEIGHT, WIDTH, 3), grey, dtype=np.uint8)
            container.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(video.encode())
        if sound is not None:
            total = int(
                16000 * (seconds_of_audio if seconds_of_audio is not None else n_frames / fps)
            )
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(total) / 16000)).astype(np.float32)
            for start in range(0, total, 1024):
                frame = av.AudioFrame.from_ndarray(
                    tone[None, start : start + 1024], format="fltp", layout="mono"
                )
                frame.sample_rate = 16000
                frame.pts = start
                frame.time_base = Fraction(1, 16000)
                container.mux(sound.encode(frame))
            container.mux(sound.encode())


def record(session: str, video_id: str, part: int, tricks: list[dict]) -> dict:
    """An annotation record in the dataset's JSON form."""
    urls = {f"video_url_{v}": f"{session}/{video_id}-View{v}-Part{part}.mp4" for v in range(1, 6)}
    return {**urls, "tricks": tricks}


def write_sequence(
    home_dir: Path,
    rec: dict,
    n_frames: int = 40,
    fps: int = 10,
    short_view: int | None = None,
    silent_view: int | None = None,
) -> None:
    """The five views of ``rec``; ``short_view`` gets 4 frames fewer, ``silent_view`` no audio track."""
    for view in range(1, 6):
        frames = n_frames - 4 if view == short_view else n_frames
        write_view(
            home_dir / rec[f"video_url_{view}"],
            frames,
            fps,
            view_colour(view),
            audio=view != silent_view,
        )


def write_json(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records))
