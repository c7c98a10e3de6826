"""Inference speed of a visual-only student over a whole recording: PyTorch against its export.

    .venv/bin/python benchmarks/inference_speed.py [--seconds 60] [--threads 1] [--repeats 3]
        [--sizes demo paper] [--devices cpu cuda]

For each size (``demo``: conf/base's model, T and image size; ``paper``: conf/paper's ViT-S/32 at
224 px, T = 70), a student with random weights (``pretrained`` ignored) scores a random 5-view
recording of ``--seconds`` at 2.5 FPS with the inference pipeline's sliding window (the training
frame spacing of that size, windows overlapping by conf/base's ``inference.window.overlap``), once
through PyTorch and once through its ``torch.export`` program (traced on the device it runs on).
Prints, per size, device and backend, the best of ``--repeats`` runs (after a warm-up call on two
windows): wall-clock and CPU seconds (this process), 2.5-FPS frames (each five images) scored per
second and the real-time factor (seconds of 5-view recording per second of compute), both from the
CPU seconds on the CPU (what the process would take alone on its cores; the wall clock of a shared
machine includes other jobs' turns) and from the wall clock on CUDA, and the largest score
difference from PyTorch. Decoding is not included
(benchmarks/decode_throughput.py measures it). CUDA runs only where it is available.
"""
from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np
import torch
from model_cost import environment_parameters, model_parameters

from vicokd.data.annotations import NUM_VIEWS, SAMPLE_FPS
from vicokd.inference.calibration import hop_frames, training_frame_step
from vicokd.inference.export import FrameScorer, export_student
from vicokd.inference.windows import ClipScorer, score_recording, window_indices
from vicokd.models import build_model

#: Length of a training sequence of each size, seconds: the demo's simulated sequences
#: (conf/base simulation.duration), and MultiSensor-Home's (PAPER.md: up to about 70 s).
ENVIRONMENTS = {"demo": "base", "paper": "paper"}
PAPER_SEQUENCE_SECONDS = 60.0


def size_settings(size: str) -> dict:
    """T, image size, frame step, hop, batch size and model block of one size."""
    parameters = environment_parameters(ENVIRONMENTS[size])
    num_frames = parameters["training"]["num_frames"]
    seconds = parameters["simulation"]["duration"] if size == "demo" else PAPER_SEQUENCE_SECONDS
    window = parameters["inference"]["window"]
    return {"num_frames": num_frames, "image_size": tuple(parameters["ingestion"]["image_size"]),
            "frame_step": training_frame_step([round(seconds * SAMPLE_FPS)], num_frames),
            "hop": hop_frames(num_frames, window["overlap"]), "batch_size": window["batch_size"],
            "model": model_parameters(ENVIRONMENTS[size])}


def on_device(clip_scores: ClipScorer, device: torch.device) -> ClipScorer:
    """``clip_scores`` fed clips moved to ``device``."""
    return lambda clips: clip_scores(clips.to(device, non_blocking=True))


def best_time(run, repeats: int, device: torch.device) -> tuple[float, float, np.ndarray]:
    """The shortest wall-clock and CPU time (this process) of ``repeats`` calls of ``run``, and
    its result."""
    walls, cpus = [], []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        if device.type == "cuda":
            torch.cuda.synchronize()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the recording")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", nargs="+", default=["demo", "paper"],
                        choices=sorted(ENVIRONMENTS))
    parser.add_argument("--devices", nargs="+", default=["cpu", "cuda"], choices=["cpu", "cuda"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    devices = [torch.device(d) for d in args.devices if d == "cpu" or torch.cuda.is_available()]
    n_frames = round(args.seconds * SAMPLE_FPS)
    print(f"{args.seconds:g} s recording ({n_frames} frames at {SAMPLE_FPS} FPS, {NUM_VIEWS} "
          f"views), {args.threads} CPU thread(s), torch {torch.__version__}")
    print(f"{'size':<6} {'device':<6} {'backend':<9} {'windows':>7} {'wall s':>8} {'CPU s':>8} "
          f"{'frames/s':>9} {'real-time x':>11} {'max |diff|':>10}")
    for size in args.sizes:
        settings = size_settings(size)
        height, width = settings["image_size"]
        frames = np.random.default_rng(0).integers(0, 256, (NUM_VIEWS, n_frames, height, width, 3),
                                                   dtype=np.uint8)
        window = (settings["num_frames"], settings["frame_step"], settings["hop"],
                  settings["batch_size"])
        windows = len(window_indices(n_frames, *window[:3]))
        torch.manual_seed(0)
        model = build_model(settings["model"], with_audio=False).eval()
        metadata = {"views": NUM_VIEWS, "num_frames": settings["num_frames"],
                    "image_size": list(settings["image_size"])}
        for device in devices:
            model.to(device)
            exported = export_student(model, metadata, tolerance=1e-4)
            backends = {"pytorch": FrameScorer(model), "exported": exported.clip_scores}
            reference = None
            for backend, clip_scores in backends.items():
                with torch.no_grad():  # warm-up: one batch of windows
                    clip_scores(torch.from_numpy(frames[:, window_indices(n_frames, *window[:3])[:2]])
                                .permute(1, 0, 2, 5, 3, 4).contiguous().to(device))
                run = partial(score_recording, on_device(clip_scores, device), frames, *window)
                wall, cpu, scores = best_time(run, args.repeats, device)
                reference = scores if reference is None else reference
                seconds = cpu if device.type == "cpu" else wall
                print(f"{size:<6} {device.type:<6} {backend:<9} {windows:>7} {wall:8.2f} {cpu:8.2f} "
                      f"{n_frames / seconds:9.1f} {args.seconds / seconds:11.2f} "
                      f"{np.abs(scores - reference).max():10.1e}", flush=True)


if __name__ == "__main__":
    main()
