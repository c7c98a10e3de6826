"""One training loop for the teacher and every student.

Adam with weight decay, a cosine learning-rate schedule over all steps, bf16 autocast on CUDA, a
progress bar, a per-epoch history (each loss term, the view-consistency diagnostics, validation and
test mAP), the best weights chosen on validation sequence-level mAP (never on test, never on frame
labels), a checkpoint after every epoch and resumption from it.
"""
from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from vicokd.datasets.torch_checkpoint import read_torch_file, write_torch_file
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
    """Outcome of :func:`fit`: the best weights (on the selection score) and the per-epoch history."""

    state_dict: dict[str, torch.Tensor]
    best_epoch: int
    best_value: float
    history: pd.DataFrame


class EpochLogger(Protocol):
    """Where each epoch's history row goes (e.g. ``vicokd.tracking.ModelTracker``)."""

    def log_epoch(self, epoch: int, metrics: Mapping[str, float]) -> None: ...


def _to_device(batch: Mapping[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _finite_mean(values: list[float]) -> float:
    """Mean of the finite values (NaN when there are none)."""
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def _is_better(value: float, best: float) -> bool:
    """NaN (no positive in the validation set) never wins; ties keep the earlier epoch."""
    return not math.isnan(value) and (math.isnan(best) or value > best)


def load_resumable(run_dir: Path, fingerprint: str) -> dict[str, Any] | None:
    """The last-epoch checkpoint in ``run_dir`` when it exists and matches ``fingerprint``."""
    path = run_dir / LAST
    if not path.is_file():
        return None
    state = read_torch_file(path, "resume")
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
    select_on: str = "val_seq_map",
    tracker: EpochLogger | None = None,
) -> FitResult:
    """Train ``model`` with ``objective`` and return the weights of its best validation epoch.

    Args:
        model: freshly built (seeded) model; trained in place, left on the training device.
        objective: gives the unweighted loss terms of a batch; its recipe weights them.
        train_set: yields dicts of tensors; ``set_epoch(epoch)`` is called when it exists, so
            random frame sampling differs per epoch yet repeats after a resume.
        evaluate: ``model -> {"val_seq_map": ..., "test_map": ..., ...}`` (mAP in percent); the
            value ``select_on`` selects the best epoch, the others are only recorded.
        settings: the ``training`` parameters.
        run_dir: folder for ``last.pt`` (everything needed to resume) and ``best.pt``.
        seed: seeds shuffling (per epoch) and, on a fresh start, the global torch RNG.
        fingerprint: identifies model config + recipe + data + settings; ``last.pt`` resumes only
            when it matches.
        on_epoch_end: called with the epoch number after its checkpoint is written.
        select_on: the score that selects the best epoch: validation sequence-level mAP (it reads
            no frame label and never the test split).
        tracker: receives every epoch's history row (restored rows too, after a resume).

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
    best = {"epoch": 0, "value": math.nan, "state_dict": _cpu_state(model)}
    start = 1
    resumed = load_resumable(run_dir, fingerprint) if settings.resume else None
    if resumed is not None:
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        scheduler.load_state_dict(resumed["scheduler"])
        torch.set_rng_state(resumed["rng_state"])
        history, best = resumed["history"], resumed["best"]
        start = resumed["epoch"] + 1
        if start > settings.epochs:
            log.info("%s is complete (%d epochs): reused", run_dir, settings.epochs)
        else:
            log.info("Resuming %s from epoch %d of %d", run_dir, start, settings.epochs)
        if tracker is not None:
            for row in history:
                tracker.log_epoch(int(row["epoch"]), row)
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
        diagnostics: dict[str, list[float]] = {}
        model.train()
        bar = tqdm(loader, desc=f"{run_dir.name} epoch {epoch}/{settings.epochs}",
                   disable=not settings.progress, leave=False)
        for index, batch in enumerate(bar):
            batch = _to_device(batch, device)
            with autocast_context(device, settings.autocast):
                step = objective(model, batch)
            terms = step.terms
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
            for name, value in step.diagnostics.items():
                diagnostics.setdefault(name, []).append(value)
            bar.set_postfix(loss=f"{loss.item():.3f}")
        model.eval()
        scores = dict(evaluate(model))
        row = {"epoch": epoch, "lr": lr, "seconds": time.perf_counter() - began}
        row["loss"] = sums.pop("loss") / max(len(loader), 1)
        row.update({f"loss.{name}": total / max(len(loader), 1) for name, total in sums.items()})
        row.update({name: _finite_mean(values) for name, values in diagnostics.items()})
        row.update(scores)
        history.append(row)
        if tracker is not None:
            tracker.log_epoch(epoch, row)
        if _is_better(scores[select_on], best["value"]) or best["epoch"] == 0:
            best = {"epoch": epoch, "value": scores[select_on], "state_dict": _cpu_state(model)}
            write_torch_file(best["state_dict"], run_dir / BEST)
        write_torch_file(
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
            "%s epoch %d/%d: loss %.4f, %s %.2f (%.1f s)",
            run_dir, epoch, settings.epochs, row["loss"], select_on, scores[select_on], row["seconds"],
        )
        if on_epoch_end is not None:
            on_epoch_end(epoch)
    return FitResult(
        state_dict=copy.deepcopy(best["state_dict"]),
        best_epoch=int(best["epoch"]),
        best_value=float(best["value"]),
        history=pd.DataFrame(history),
    )
