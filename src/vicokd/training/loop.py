"""One training loop for the teacher and every student.

Adam with weight decay, a cosine learning-rate schedule over all steps, bf16 autocast on CUDA, a
progress bar, a per-epoch history (each loss term, validation and test mAP), the best weights chosen
on validation mAP (never on test), a checkpoint after every epoch and resumption from it.
"""
from __future__ import annotations

import copy
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from vicokd.training.device import autocast_context, resolve_device
from vicokd.training.objectives import Objective, weighted_total
from vicokd.training.settings import TrainingSettings

log = logging.getLogger(__name__)

LAST = "last.pt"
BEST = "best.pt"


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or infinite; the message names the epoch, batch and term."""


@dataclass
class FitResult:
    """Outcome of :func:`fit`: the best weights (on validation mAP) and the per-epoch history."""

    state_dict: dict[str, torch.Tensor]
    best_epoch: int
    best_val_map: float
    history: pd.DataFrame


def _to_device(batch: Mapping[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _save_atomic(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file then rename: a crash never leaves a half-written file."""
    staging = path.with_name(f".{path.name}.tmp")
    torch.save(obj, staging)
    os.replace(staging, path)


def _is_better(value: float, best: float) -> bool:
    """NaN (no positive in the validation set) never wins; ties keep the earlier epoch."""
    return not math.isnan(value) and (math.isnan(best) or value > best)


def load_resumable(run_dir: Path, fingerprint: str) -> dict[str, Any] | None:
    """The last-epoch checkpoint in ``run_dir`` when it exists and matches ``fingerprint``."""
    path = run_dir / LAST
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("fingerprint") != fingerprint:
        log.warning("Ignoring %s: it was trained with another configuration or recipe.", path)
        return None
    return state


def fit(
    model: torch.nn.Module,
    objective: Objective,
    train_set: Dataset,
    evaluate: Callable[[torch.nn.Module], Mapping[str, float]],
    settings: TrainingSettings,
    run_dir: str | Path,
    seed: int,
    fingerprint: str,
    on_epoch_end: Callable[[int], None] | None = None,
) -> FitResult:
    """Train ``model`` with ``objective`` and return the best weights on validation mAP.

    Args:
        model: freshly built (seeded) model; trained in place, left on the training device.
        objective: gives the unweighted loss terms of a batch; its recipe weights them.
        train_set: yields dicts of tensors; ``set_epoch(epoch)`` is called when it exists, so
            random frame sampling differs per epoch yet repeats after a resume.
        evaluate: ``model -> {"val_map": ..., "test_map": ..., ...}`` (frame-level mAP in percent);
            ``val_map`` selects the best epoch, the other values are only recorded.
        settings: the ``training`` parameters.
        run_dir: folder for ``last.pt`` (everything needed to resume) and ``best.pt``.
        seed: seeds shuffling (per epoch) and, on a fresh start, the global torch RNG.
        fingerprint: identifies model config + recipe + data + settings; ``last.pt`` resumes only
            when it matches.
        on_epoch_end: called with the epoch number after its checkpoint is written.

    Raises:
        NonFiniteLossError: a loss term is NaN or infinite (``last.pt`` keeps the previous epoch).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(settings.num_threads)
    device = resolve_device(settings.device)
    model.to(device)
    objective.to(device)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    steps_per_epoch = math.ceil(len(train_set) / settings.batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=settings.epochs * steps_per_epoch
    )
    history: list[dict[str, float]] = []
    best = {"epoch": 0, "val_map": math.nan, "state_dict": _cpu_state(model)}
    start = 1
    resumed = load_resumable(run_dir, fingerprint) if settings.resume else None
    if resumed is not None:
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        scheduler.load_state_dict(resumed["scheduler"])
        torch.set_rng_state(resumed["rng_state"])
        history, best = resumed["history"], resumed["best"]
        start = resumed["epoch"] + 1
        log.info("Resuming %s from epoch %d of %d", run_dir, start, settings.epochs)
    else:
        torch.manual_seed(seed)

    weights = objective.weights
    for epoch in range(start, settings.epochs + 1):
        began = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        if hasattr(train_set, "set_epoch"):
            train_set.set_epoch(epoch)
        loader = DataLoader(
            train_set,
            batch_size=settings.batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(seed * 100_003 + epoch),
        )
        sums = dict.fromkeys(["loss", *weights], 0.0)
        model.train()
        bar = tqdm(loader, desc=f"{run_dir.name} epoch {epoch}/{settings.epochs}",
                   disable=not settings.progress, leave=False)
        for index, batch in enumerate(bar):
            batch = _to_device(batch, device)
            with autocast_context(device, settings.autocast):
                terms = objective(model, batch)
            for name, value in terms.items():
                if not torch.isfinite(value).all():
                    raise NonFiniteLossError(
                        f"{run_dir}: loss term {name!r} is {value.item()} at epoch {epoch}, "
                        f"batch {index}; the last good checkpoint is {run_dir / LAST} "
                        f"(epoch {epoch - 1})"
                    )
            loss = weighted_total(weights, terms)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            sums["loss"] += loss.item()
            for name, value in terms.items():
                sums[name] += value.item()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        model.eval()
        scores = dict(evaluate(model))
        row = {"epoch": epoch, "lr": lr, "seconds": time.perf_counter() - began}
        row["loss"] = sums.pop("loss") / max(len(loader), 1)
        row.update({f"loss.{name}": total / max(len(loader), 1) for name, total in sums.items()})
        row.update(scores)
        history.append(row)
        if _is_better(scores["val_map"], best["val_map"]) or best["epoch"] == 0:
            best = {"epoch": epoch, "val_map": scores["val_map"], "state_dict": _cpu_state(model)}
            _save_atomic(best["state_dict"], run_dir / BEST)
        _save_atomic(
            {
                "fingerprint": fingerprint,
                "epoch": epoch,
                "model": _cpu_state(model),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng_state": torch.get_rng_state(),
                "history": history,
                "best": best,
            },
            run_dir / LAST,
        )
        log.info(
            "%s epoch %d/%d: loss %.4f, val mAP %.2f, test mAP %.2f (%.1f s)",
            run_dir, epoch, settings.epochs, row["loss"], scores["val_map"],
            scores.get("test_map", math.nan), row["seconds"],
        )
        if on_epoch_end is not None:
            on_epoch_end(epoch)
    return FitResult(
        state_dict=copy.deepcopy(best["state_dict"]),
        best_epoch=int(best["epoch"]),
        best_val_map=float(best["val_map"]),
        history=pd.DataFrame(history),
    )
