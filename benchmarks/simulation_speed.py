"""Speed of the simulator: seconds per sequence (one process) per home, with and without writing mp4.

Usage: .venv/bin/python benchmarks/simulation_speed.py [n_sequences] [home ...]
(default: 4 sequences of each home of the default demo, conf/base: ingestion.homes and
simulation.extra_homes, at its simulation settings)
"""
import os
import sys
import tempfile
import time
from pathlib import Path

from model_cost import environment_parameters

from vicokd.simulation.generate import (
    SimulationParameters,
    make_scripts,
    render_sequence,
    simulate_truth,
)


def main(n: int = 4, homes: tuple[str, ...] = ()) -> None:
    params = environment_parameters("base")
    simulation = SimulationParameters.model_validate(params["simulation"])
    settings = simulation.settings  # the default demo's settings
    homes = homes or (*params["ingestion"]["homes"], *simulation.extra_homes)  # the default demo's
    one = settings.model_copy(update={"sequences_per_home": n})
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"{settings.duration:.0f}-s sequences, {settings.width}x{settings.height}, "
          f"{settings.fps} fps, 5 views")
    total_cpu = 0.0
    for home in homes:
        scripts = make_scripts(home, one, seed=0)
        with tempfile.TemporaryDirectory() as tmp:
            render_sequence(home, 0, scripts[0], one, 0, Path(tmp))  # warm the scene caches
            wall, cpu = time.perf_counter(), time.process_time()
            for i, script in enumerate(scripts):
                render_sequence(home, i, script, one, 0, Path(tmp))
            wall, cpu = (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n
        truth_cpu = time.process_time()
        simulate_truth([home], one, seed=0)
        truth_cpu = (time.process_time() - truth_cpu) / n
        total_cpu += cpu * settings.sequences_per_home
        print(f"{home}: render+encode {wall:.2f} s wall, {cpu:.2f} s CPU per sequence; "
              f"truth only (no files) {truth_cpu:.2f} s CPU per sequence")
    print(f"default demo ({len(homes)} homes x {settings.sequences_per_home} sequences, "
          f"{simulation.workers} workers, idle machine): ~{total_cpu / simulation.workers:.0f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4, tuple(sys.argv[2:]))
