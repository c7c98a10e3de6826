"""Writing the public layout: one mp4 per view (H.264 video + AAC 16 kHz mono audio) and the annotation
JSON files of a home, named as in MultiSensor-Home.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import av
import numpy as np

from vicokd.simulation.audio import SAMPLE_RATE
from vicokd.simulation.script import Trick

#: Annotation files of each home: (file holding every sequence or None, train file, test file).
ANNOTATION_FILES = {
    "Home1": ("all_labels.json", "train.json", "test.json"),
    "Home2": (None, "train_data.json", "test_data.json"),
    "Home3": ("all_labels.json", "train.json", "test.json"),
}
TRAIN_SHARE = 0.7


class ViewWriters:
    """Open mp4 writers for the views of one sequence; frames are pushed one time step at a time."""

    def __init__(self, paths: list[Path], width: int, height: int, fps: float, crf: int = 20):
        self.containers = [av.open(str(p), mode="w", format="mp4") for p in paths]
        self.video, self.audio = [], []
        for c in self.containers:
            v = c.add_stream("libx264", rate=round(fps),
                             options={"preset": "ultrafast", "crf": str(crf), "threads": "1"})
            v.width, v.height, v.pix_fmt = width, height, "yuv420p"
            self.video.append(v)
            self.audio.append(c.add_stream("aac", rate=SAMPLE_RATE, layout="mono"))

    def push(self, frames: Iterable[np.ndarray]) -> None:
        """Encode one RGB frame (H, W, 3) uint8 per view."""
        for c, v, img in zip(self.containers, self.video, frames):
            for packet in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(packet)

    def close(self, audio: np.ndarray) -> None:
        """Encode audio (V, n_samples) float32, flush and close every file."""
        for c, v, a, signal in zip(self.containers, self.video, self.audio, audio):
            for packet in v.encode():
                c.mux(packet)
            for i in range(0, len(signal), 1024):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(signal[None, i:i + 1024]),
                                                   format="fltp", layout="mono")
                frame.sample_rate, frame.pts = SAMPLE_RATE, i
                for packet in a.encode(frame):
                    c.mux(packet)
            for packet in a.encode():
                c.mux(packet)
            c.close()


def annotation_record(video_urls: list[str], tricks: list[Trick]) -> dict:
    """A MultiSensor-Home record: ``video_url_1..V`` and tricks sorted by start time."""
    record: dict = {f"video_url_{k + 1}": url for k, url in enumerate(video_urls)}
    record["tricks"] = [{"start": t.start, "end": t.end, "labels": [t.label]}
                        for t in sorted(tricks, key=lambda t: (t.start, t.end, t.label))]
    return record


def write_annotations(home_dir: Path, home: str, records: list[dict], rng: np.random.Generator) -> list[str]:
    """Write the home's annotation files (a 7:3 train/test split of ``records``); return their names."""
    all_name, train_name, test_name = ANNOTATION_FILES[home]
    order = rng.permutation(len(records))
    n_train = round(TRAIN_SHARE * len(records))
    train = sorted(order[:n_train].tolist())
    files = {train_name: [records[i] for i in train],
             test_name: [records[i] for i in sorted(order[n_train:].tolist())]}
    if all_name:
        files[all_name] = records
    for name, content in files.items():
        (home_dir / name).write_text(json.dumps(content, indent=1) + "\n")
    return sorted(files)
