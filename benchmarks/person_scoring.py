"""Person scoring (the masking pipeline's detector pass) against ultralytics' own predict loop.

    python benchmarks/person_scoring.py [--env base] [--sequences 4] [--repeats 2]

Both score the same frames (the first ``--sequences`` sequences of the ``frames`` store a
``kedro run`` left on disk, every view and 2.5-FPS frame) with the trained detector
(``person_detector``), in batches of ``masking.batch_size``, in this one process with one torch
thread per usable core (as the masking node), alternating so that a busy machine slows both alike:

- ``ultralytics predict``: ``YOLO.predict`` on the batch's frames (letterbox, network, NMS, one
  ``Results`` per frame), the maximum person confidence read from each result: what the project
  ran before;
- ``person_confidence``: ``vicokd.detection.infer.person_confidence``, ultralytics' predictor
  without the ``Results`` objects.

Prints frames per second of each, their ratio, and whether the scores are identical.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from vicokd.detection.infer import load_person_detector, person_confidence
from vicokd.processes import usable_cores

PROJECT = Path(__file__).resolve().parents[1]


def predict_loop(model, frames: np.ndarray, person_class: int, imgsz: int, batch_size: int,
                 min_confidence: float) -> np.ndarray:
    """``(V, n)`` person confidence through ``YOLO.predict``, one ``Results`` per frame."""
    flat = frames.reshape(-1, *frames.shape[2:])
    scores = np.zeros(len(flat), dtype=np.float32)
    for start in range(0, len(flat), batch_size):
        images = [image[..., ::-1] for image in flat[start:start + batch_size]]
        results = model.predict(images, imgsz=imgsz, conf=min_confidence, classes=[person_class],
                                batch=len(images), verbose=False)
        for offset, result in enumerate(results):
            confidences = result.boxes.conf.cpu().numpy()
            scores[start + offset] = float(confidences.max()) if confidences.size else 0.0
    return scores.reshape(frames.shape[:2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="base")
    parser.add_argument("--sequences", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    os.chdir(PROJECT)
    bootstrap_project(PROJECT)
    with KedroSession.create(PROJECT, env=args.env) as session:
        context = session.load_context()
        masking = context.params["masking"]
        store = context.catalog.load("frames")
        record = context.catalog.load("person_detector")
    frames = [np.asarray(store[sid]) for sid in sorted(store)[:args.sequences]]
    model, person = load_person_detector(record["weights"], masking["person_class"])
    settings = (person, masking["imgsz"], masking["batch_size"], masking["min_confidence"])
    count = sum(f.shape[0] * f.shape[1] for f in frames)
    ways = {"ultralytics predict": predict_loop, "person_confidence": person_confidence}
    seconds = dict.fromkeys(ways, 0.0)
    scores = {}
    for way in ways.values():  # untimed: set-up and warm-up
        way(model, frames[0][:, :2], *settings)
    torch.set_num_threads(usable_cores())  # as the masking node; ultralytics' set-up took one away
    for _ in range(args.repeats):
        for name, way in ways.items():
            began = time.perf_counter()
            scores[name] = [way(model, f, *settings) for f in frames]
            seconds[name] += time.perf_counter() - began
    print(f"{count} frames ({len(frames)} sequences × views × 2.5-FPS frames) at "
          f"{masking['imgsz']} px, batch {masking['batch_size']}, {torch.get_num_threads()} torch "
          f"threads, {args.repeats} repeats, load average {os.getloadavg()[0]:.1f}")
    for name in ways:
        print(f"{name:<20} {args.repeats * count / seconds[name]:8.0f} frames/s")
    identical = all(np.array_equal(a, b) for a, b in zip(*scores.values()))
    print(f"person_confidence / ultralytics predict: "
          f"{seconds['ultralytics predict'] / seconds['person_confidence']:.2f}x the throughput; "
          f"scores identical: {identical}")


if __name__ == "__main__":
    main()
