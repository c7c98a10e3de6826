"""Would training the seeds of a run as one batched model pay on this CPU? Three ways to take one
optimiser step of S seeds' plain students, timed side by side in one process.

    python benchmarks/batched_seeds.py [--seeds 8] [--steps 20] [--threads 1]

The workload is the default run's plain student on cached embeddings (conf/base's model, random
weights): a batch of B = 8 clips ``(B, V, T, H)`` = (8, 5, 12, 64), sequence and frame BCE,
backward, Adam (foreach, as the training loop). Each way steps all S seeds once:

- ``separate``: S models, one after the other, each on its own batch (what the training stage
  does, one model per job);
- ``vmap``: the S models' parameters stacked (``torch.func.stack_module_state``) and one
  ``vmap(functional_call)`` over the S batches, one Adam over the stacked tensors: the candidate
  of issue 23 (identical numerics per member: checked here against ``separate`` on one step);
- ``one batch``: a single model on one batch of S·B clips: the same arithmetic in one call
  without vmap's per-member bookkeeping, an upper bound of what any batching could gain.

Prints milliseconds per step of all S seeds for each way, and ``separate`` over each (how many times
faster batching would make the training steps), measured alternately in this one process.
"""
from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable

import torch
from model_cost import model_parameters
from torch.func import functional_call, stack_module_state, vmap

from vicokd.models import build_model, parse_model_config

BATCH, VIEWS, FRAMES = 8, 5, 12


def clip_loss(output, targets: torch.Tensor) -> torch.Tensor:
    """Sequence + frame BCE of a model output against sequence ``targets`` ``(B, C)``."""
    frames = targets[:, None].expand(-1, output.frame_logits.shape[1], -1)
    return (torch.nn.functional.binary_cross_entropy_with_logits(output.sequence_logits, targets)
            + torch.nn.functional.binary_cross_entropy_with_logits(output.frame_logits, frames))


def models_and_batches(seeds: int) -> tuple[list[torch.nn.Module], torch.Tensor, torch.Tensor]:
    """``seeds`` students (seeded 0..S-1) and their batches: embeddings ``(S, B, V, T, H)`` and
    sequence targets ``(S, B, C)``."""
    config = parse_model_config(model_parameters("base"))
    models = []
    for seed in range(seeds):
        torch.manual_seed(seed)
        models.append(build_model(config.model_dump(), with_audio=False).train())
    generator = torch.Generator().manual_seed(0)
    embeddings = torch.randn(seeds, BATCH, VIEWS, FRAMES, config.visual_encoder.hidden_size,
                             generator=generator)
    targets = (torch.rand(seeds, BATCH, config.num_classes, generator=generator) > 0.7).float()
    return models, embeddings, targets


def separate_step(models: list[torch.nn.Module], embeddings: torch.Tensor,
                  targets: torch.Tensor) -> Callable[[], None]:
    optimizers = [torch.optim.Adam(m.parameters(), lr=1e-3, foreach=True) for m in models]

    def step() -> None:
        for model, optimizer, x, y in zip(models, optimizers, embeddings, targets):
            clip_loss(model(x), y).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

    return step


def vmap_step(models: list[torch.nn.Module], embeddings: torch.Tensor,
              targets: torch.Tensor) -> tuple[Callable[[], None], dict[str, torch.Tensor]]:
    params, buffers = stack_module_state(models)
    template = copy.deepcopy(models[0]).to("meta")
    optimizer = torch.optim.Adam(list(params.values()), lr=1e-3, foreach=True)

    def member_loss(p, b, x, y) -> torch.Tensor:
        return clip_loss(functional_call(template, (p, b), (x,)), y)

    batched = vmap(member_loss, randomness="same")

    def step() -> None:
        batched(params, buffers, embeddings, targets).sum().backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step, params


def one_batch_step(model: torch.nn.Module, embeddings: torch.Tensor,
                   targets: torch.Tensor) -> Callable[[], None]:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=True)
    x, y = embeddings.flatten(0, 1), targets.flatten(0, 1)

    def step() -> None:
        clip_loss(model(x), y).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


@torch.no_grad()
def largest_difference(models: list[torch.nn.Module], params: dict[str, torch.Tensor]) -> float:
    """The largest |difference| between each separate model's parameters and its stacked member."""
    return max(float((dict(m.named_parameters())[name] - stacked[i]).abs().max())
               for name, stacked in params.items() for i, m in enumerate(models))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    models, embeddings, targets = models_and_batches(args.seeds)
    vmapped, stacked = vmap_step(copy.deepcopy(models), embeddings, targets)
    separate = separate_step(models, embeddings, targets)
    separate()
    vmapped()
    difference = largest_difference(models, stacked)
    ways = {"separate": separate, "vmap": vmapped,
            "one batch": one_batch_step(copy.deepcopy(models[0]), embeddings, targets)}
    seconds = dict.fromkeys(ways, 0.0)
    for _ in range(args.steps):  # alternating, so that a busy machine slows every way alike
        for name, step in ways.items():
            began = time.perf_counter()
            step()
            seconds[name] += time.perf_counter() - began
    print(f"{args.seeds} seeds x batch {BATCH} clips (V={VIEWS}, T={FRAMES}), {args.threads} "
          f"thread(s), {args.steps} steps each; vmap vs separate after one step: max |diff| "
          f"{difference:.1e}")
    for name, total in seconds.items():
        per_step = 1e3 * total / args.steps
        print(f"{name:10s} {per_step:8.1f} ms per step of all seeds   "
              f"separate / this: {seconds['separate'] / total:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
