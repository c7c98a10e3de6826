"""Speed of the simulator: seconds per sequence (one process) and the default demo's projected time.

Usage: .venv/bin/python benchmarks/simulation_speed.py [n_sequences]
"""
import os
import sys
import tempfile
import time
from pathlib import Path

from vicokd.simulation.generate import SimulationSettings, make_scripts, render_sequence


def main(n: int = 4) -> None:
    settings = SimulationSettings()  # the default demo's settings
    t0 = time.perf_counter()
    scripts = make_scripts("Home2", settings, seed=0)[:n]
    script_s = (time.perf_counter() - t0) / settings.sequences_per_home
    with tempfile.TemporaryDirectory() as tmp:
        render_sequence("Home2", 0, scripts[0], settings, 0, Path(tmp))  # warm the scene caches
        wall, cpu = time.perf_counter(), time.process_time()
        for i, script in enumerate(scripts):
            render_sequence("Home2", i, script, settings, 0, Path(tmp))
        wall, cpu = (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n
    total = 2 * settings.sequences_per_home
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"script: {script_s * 1000:.1f} ms/sequence")
    print(f"render+encode: {wall:.2f} s wall, {cpu:.2f} s CPU per {settings.duration:.0f}-s sequence "
          f"({settings.width}x{settings.height}, {settings.fps} fps, 5 views)")
    print(f"default demo ({total} sequences, 2 workers, idle machine): ~{total * cpu / 2:.0f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
