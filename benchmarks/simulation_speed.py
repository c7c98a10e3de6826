"""Speed of the simulator against the limit of its encoders: per home, seconds per sequence (one
process) to render and write it, and to write the same frames and audio already in memory.

Usage: .venv/bin/python benchmarks/simulation_speed.py [n_sequences] [home ...]
(default: 4 sequences of each home of the default demo, conf/base: ingestion.homes and
simulation.extra_homes, at its simulation settings)

``render+encode`` is ``render_sequence`` (scene, person, microphones, H.264 + AAC, mp4);
``encode only`` writes the same five views' frames and audio, made beforehand, through the same
writers (``vicokd.simulation.writer.ViewWriters``): no simulation can be faster. ``truth only`` is
the visibility without any file (what ``simulate_truth`` costs). The ratio encode only /
render+encode is how close the simulator runs to its encoders; both are timed in this one process,
alternating sequence by sequence.
"""
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from model_cost import environment_parameters

from vicokd.simulation.audio import microphone_signals
from vicokd.simulation.generate import (
    SimulationParameters,
    make_scripts,
    render_sequence,
    sequence_frames,
    simulate_truth,
)
from vicokd.simulation.world import make_home
from vicokd.simulation.writer import ViewWriters


def encode(folder: Path, frames: list[list[np.ndarray]], audio: np.ndarray, settings) -> float:
    """Seconds to write ``frames`` (per native frame, one image per view) and ``audio``."""
    began = time.perf_counter()
    writers = ViewWriters([folder / f"View{v}.mp4" for v in range(1, len(audio) + 1)],
                          settings.width, settings.height, settings.fps, settings.crf)
    for images in frames:
        writers.push(images)
    writers.close(audio)
    return time.perf_counter() - began


def main(n: int = 4, homes: tuple[str, ...] = ()) -> None:
    params = environment_parameters("base")
    simulation = SimulationParameters.model_validate(params["simulation"])
    settings = simulation.settings  # the default demo's settings
    homes = homes or (*params["ingestion"]["homes"], *simulation.extra_homes)  # the default demo's
    one = settings.model_copy(update={"sequences_per_home": n})
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"{settings.duration:.0f}-s sequences, {settings.width}x{settings.height}, "
          f"{settings.fps} fps, 5 views")
    total = 0.0
    for home in homes:
        scripts = make_scripts(home, one, seed=0)
        full = written = 0.0
        with tempfile.TemporaryDirectory() as tmp:
            render_sequence(home, 0, scripts[0], one, 0, Path(tmp))  # warm the scene caches
            for i, script in enumerate(scripts):
                began = time.perf_counter()
                render_sequence(home, i, script, one, 0, Path(tmp))
                full += time.perf_counter() - began
                frames = [images for images, _ in sequence_frames(home, script, one)]
                audio = microphone_signals(make_home(home), script, np.random.default_rng(i))
                written += encode(Path(tmp), frames, audio, one)
        truth_cpu = time.process_time()
        simulate_truth([home], one, seed=0)
        truth_cpu = (time.process_time() - truth_cpu) / n
        total += full / n * settings.sequences_per_home
        print(f"{home}: render+encode {full / n:.2f} s, encode only {written / n:.2f} s per "
              f"sequence (wall): {written / full:.2f} of the limit; truth only (no files) "
              f"{truth_cpu:.2f} s CPU per sequence")
    print(f"default demo ({len(homes)} homes x {settings.sequences_per_home} sequences, "
          f"{simulation.workers} workers, at this run's speed): ~{total / simulation.workers:.0f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4, tuple(sys.argv[2:]))
