"""Throughput of CPU training steps beside a busy neighbour: threads, OpenMP wait policy, processes.

    python benchmarks/busy_machine.py [--seconds 12] [--workloads pretraining training]

A neighbour is one CPU-bound process (``python -c "while True: pass"``), started and stopped by this
script. Each workload (``pretraining``: one step of the ViT classifier of the encoders'
pretraining, batch 128 frames; ``training``: one step of the plain student on cached embeddings,
batch 8 clips; both at conf/base's sizes, random weights) is timed in fresh processes (OpenMP reads
its environment once, when it is loaded) under each arrangement:

- ``N threads, spinning``: one process of N torch threads, OpenMP's own default wait policy
  (``OMP_WAIT_POLICY`` unset, torch imported before ``vicokd``: threads spin a while at each
  barrier before they sleep), what the project ran before it set the policy;
- ``1 thread``: one process of one thread;
- ``N threads, passive``: ``OMP_WAIT_POLICY=PASSIVE`` (waiting threads sleep at once), what
  ``import vicokd`` sets unless the environment says otherwise;
- ``N threads, spincount 1e4``: ``GOMP_SPINCOUNT=10000`` (a short spin);
- ``N processes × 1 thread``: N processes of one thread each, the same steps side by side (their
  steps per second added).

Prints steps per second without and with the neighbour and their ratio (how many times slower the
busy machine is), all measured in this one run, so the ratio holds even on a shared machine (say
what else was running). N is the cores this process may use (``vicokd.processes.usable_cores``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def step_function(workload: str):
    """A function running one training step of ``workload`` (model and batch built once)."""
    import torch
    from model_cost import model_parameters

    from vicokd.models import parse_model_config
    from vicokd.models.encoders import build_encoder
    from vicokd.training.pretraining import EncoderClassifier

    config = parse_model_config(model_parameters("base"))
    torch.manual_seed(0)
    if workload == "pretraining":
        model = EncoderClassifier(build_encoder("visual", config), config.num_classes)
        inputs = torch.randint(0, 256, (128, 3, config.visual_encoder.image_size,
                                        config.visual_encoder.image_size), dtype=torch.uint8)
        targets = torch.randint(0, 2, (128, config.num_classes)).float()

        def loss() -> torch.Tensor:
            return torch.nn.functional.binary_cross_entropy_with_logits(model(inputs), targets)
    else:
        from vicokd.models import build_model

        model = build_model(config.model_dump(), with_audio=False)
        views, frames = 5, 12
        embeddings = torch.randn(8, views, frames, config.visual_encoder.hidden_size)
        targets = torch.randint(0, 2, (8, frames, config.num_classes)).float()

        def loss() -> torch.Tensor:
            output = model(embeddings, None)
            return torch.nn.functional.binary_cross_entropy_with_logits(output.frame_logits,
                                                                        targets)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()

    return step


def child(workload: str, threads: int, seconds: float) -> None:
    """Time ``workload``'s steps for ``seconds`` (after two untimed ones); print JSON. torch is
    imported first, so OpenMP reads the environment the parent gave (``import vicokd`` would set
    the wait policy where it is unset)."""
    import torch

    torch.set_num_threads(threads)
    step = step_function(workload)
    for _ in range(2):
        step()
    steps, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        step()
        steps += 1
    print(json.dumps({"steps": steps, "seconds": time.perf_counter() - began}))


def measure(workload: str, processes: int, threads: int, env: dict[str, str | None],
            seconds: float) -> float:
    """Steps per second of ``processes`` concurrent children (added up); ``env`` changes their
    environment (None: unset)."""
    command = [sys.executable, str(HERE), "--child", workload, "--threads", str(threads),
               "--seconds", str(seconds)]
    environment = {key: value for key, value in {**os.environ, **env}.items() if value is not None}
    children = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=environment)
                for _ in range(processes)]
    results = [json.loads(c.communicate()[0].strip().splitlines()[-1]) for c in children]
    return sum(r["steps"] / r["seconds"] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--workloads", nargs="+", default=["pretraining", "training"])
    parser.add_argument("--child")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.threads, args.seconds)
        return
    from vicokd.processes import usable_cores

    cores = usable_cores()
    arrangements = {
        f"{cores} threads, spinning": (1, cores, {"OMP_WAIT_POLICY": None}),
        "1 thread": (1, 1, {}),
        f"{cores} threads, passive": (1, cores, {"OMP_WAIT_POLICY": "PASSIVE"}),
        f"{cores} threads, spincount 1e4": (1, cores, {"OMP_WAIT_POLICY": None,
                                                        "GOMP_SPINCOUNT": "10000"}),
        f"{cores} processes × 1 thread": (cores, 1, {}),
    }
    print(f"{cores} usable cores; load average {os.getloadavg()[0]:.1f} before the first "
          f"measurement; {args.seconds:.0f} s per measurement")
    print(f"{'workload':<12} {'arrangement':<28} {'quiet steps/s':>13} {'busy steps/s':>12} "
          f"{'busy/quiet time':>15}")
    for workload in args.workloads:
        for name, (processes, threads, env) in arrangements.items():
            quiet = measure(workload, processes, threads, env, args.seconds)
            burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            try:
                busy = measure(workload, processes, threads, env, args.seconds)
            finally:
                burner.kill()
                burner.wait()
            print(f"{workload:<12} {name:<28} {quiet:13.2f} {busy:12.2f} {quiet / busy:14.1f}x",
                  flush=True)


if __name__ == "__main__":
    main()
