"""One training loop for the teacher and every student, on one CPU, one GPU, several GPUs or nodes.

Adam with weight decay, a cosine learning-rate schedule over all steps, bf16 mixed precision on CUDA,
gradient accumulation, a per-epoch history (each loss term and its gradient norm, the
view-consistency diagnostics, the share of time spent waiting for data, validation and test mAP)
and log line, the best weights chosen on validation sequence-level mAP (never on test, never on
frame labels), a checkpoint after the last epoch and after any other once
``training.checkpoint_every_s`` seconds have passed since the previous one, and resumption from it.

Lightning Fabric runs it on the hardware (docs/distributed.md): with several processes, each trains
on its share of every batch under DDP, loss sums and diagnostics are added up over the processes,
process 0 evaluates and decides (its history row, hence the best epoch, is broadcast), writes
``last.pt`` / ``best.pt`` and logs; every process resumes from process 0's ``last.pt``.
"""
from __future__ import annotations

import copy
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pandas as pd
import torch
from torch.utils.data import Dataset

from vicokd.datasets.staging import staged, timestamped_id
from vicokd.datasets.torch_checkpoint import read_torch_file, write_torch_file
from vicokd.fingerprints import changed_parts
from vicokd.processes import fit_to_cores
from vicokd.training.batches import WaitClock, epoch_loader
from vicokd.training.device import enable_gradient_checkpointing
from vicokd.training.distributed import launch, sum_over_processes
from vicokd.training.objectives import Objective, probe_batch, weighted_total
from vicokd.training.settings import TrainingSettings

if TYPE_CHECKING:  # imported by launch(), when a model trains
    from lightning_fabric import Fabric

log = logging.getLogger(__name__)

T = TypeVar("T")

LAST = "last.pt"
BEST = "best.pt"
#: Beside a finished ``last.pt``: its fingerprint, epoch and ``finished_id``, so that deciding
#: whether a model is reusable reads a few bytes rather than the whole training state.
FINISHED = "finished.json"


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or infinite; the message names the epoch, batch and term."""


@dataclass
class FitResult:
    """Outcome of :func:`fit`: the best weights (on the selection score), the per-epoch history,
    the epochs this call trained (0: a finished run reused) and ``finished_id``, minted when the
    run's last epoch was written and kept in ``last.pt``: the same trained weights always come
    with the same id."""

    state_dict: dict[str, torch.Tensor]
    best_epoch: int
    best_value: float
    history: pd.DataFrame
    trained_epochs: int
    finished_id: str | None


class EpochLogger(Protocol):
    """Where each epoch's history row goes (e.g. ``vicokd.tracking.ModelTracker``)."""

    def log_epoch(self, epoch: int, metrics: Mapping[str, float]) -> None: ...


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


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
        changed = changed_parts(state.get("fingerprint_parts"), getattr(fingerprint, "parts", None))
        log.warning("Training %s afresh: its %s was made from other inputs (changed: %s).",
                    run_dir, LAST, ", ".join(changed))
        return None
    return state


def finished_id(run_dir: Path, fingerprint: str, epochs: int) -> str | None:
    """The ``finished_id`` of ``run_dir``'s ``last.pt`` when it is a training of ``fingerprint``
    that ran all ``epochs`` (None: no file, other inputs or unfinished), read from
    :data:`FINISHED` (from ``last.pt`` itself, memory-mapped, in a folder written before it)."""
    path = run_dir / LAST
    if not path.is_file():
        return None
    summary = run_dir / FINISHED
    if summary.is_file():
        state = json.loads(summary.read_text())
    else:  # a folder written before finished.json existed: read last.pt once, note it for next time
        state = read_torch_file(path, "resume", mmap=True)
        if state.get("finished_id") is not None:
            _write_finished(run_dir, state["fingerprint"], state["epoch"], state["finished_id"])
    if state.get("fingerprint") != fingerprint or state.get("epoch", 0) < epochs:
        return None
    return state.get("finished_id")


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
    fabric: Fabric | None = None,
) -> FitResult:
    """Train ``model`` with ``objective`` and return the weights of its best validation epoch.

    Every process of a multi-process run calls it with the same arguments and gets the same result.

    Args:
        model: freshly built (seeded) model; trained in place, left on the training device.
        objective: gives the unweighted loss terms of a batch; its recipe weights them. Its frozen
            teacher is moved to this process's device (never wrapped in DDP).
        train_set: yields dicts of tensors; ``set_epoch(epoch)`` is called when it exists, so
            random frame sampling differs per epoch yet repeats after a resume.
        evaluate: ``model -> {"val_seq_map": ..., "val_map": ..., ...}`` (mAP in percent), called
            on process 0 only; the value ``select_on`` selects the best epoch, the others are only
            recorded.
        settings: the ``training`` parameters.
        run_dir: folder for ``last.pt`` (everything needed to resume) and ``best.pt``, written by
            process 0.
        seed: seeds shuffling (per epoch) and, on a fresh start, the global torch RNG.
        fingerprint: identifies model config + recipe + data + settings; ``last.pt`` resumes only
            when it matches.
        on_epoch_end: called (in every process) with the epoch number after its record (and its
            checkpoint, when one is due) is written.
        select_on: the score that selects the best epoch: validation sequence-level mAP (it reads
            no frame label and never the test split).
        tracker: receives every epoch's history row (restored rows too, after a resume), in
            process 0.
        fabric: the launched Fabric (:func:`vicokd.training.distributed.launch`); made from
            ``settings`` when None.

    Raises:
        NonFiniteLossError: a loss term is NaN or infinite in any process (``last.pt`` keeps the
            previous epoch).
    """
    training = _prepare(model, train_set, settings, Path(run_dir), fingerprint, fabric)
    objective.to(training.fabric.device)
    progress = _resume(training, seed, tracker)
    for epoch in range(progress.start, settings.epochs + 1):
        began = time.perf_counter()
        lr = training.optimizer.param_groups[0]["lr"]
        statistics = _train_epoch(training, objective, train_set, seed, epoch)
        statistics.update(_from_process_zero(training.fabric, partial(
            _term_gradients, training.fabric, objective, model, train_set, settings)))
        _end_epoch(training, progress, partial(_evaluated_row, evaluate, model, epoch, lr, began,
                                               statistics), select_on, tracker)
        if on_epoch_end is not None:
            on_epoch_end(epoch)
    return FitResult(
        state_dict=copy.deepcopy(progress.best["state_dict"]),
        best_epoch=int(progress.best["epoch"]),
        best_value=float(progress.best["value"]),
        history=pd.DataFrame(progress.history),
        trained_epochs=max(0, settings.epochs + 1 - progress.start),
        finished_id=progress.finished_id,
    )


@dataclass
class _Training:
    """What :func:`fit` trains with: the launched ``fabric``, the ``model`` and its Fabric wrapper
    ``trained``, the optimiser (``stepper`` its wrapper) and its cosine ``scheduler``, and where the
    resume state goes."""

    fabric: Fabric
    model: torch.nn.Module
    trained: torch.nn.Module
    optimizer: torch.optim.Optimizer
    stepper: Any
    scheduler: Any
    settings: TrainingSettings
    run_dir: Path
    fingerprint: str
    steps_per_epoch: int


@dataclass
class _Progress:
    """Where training stands: the history rows so far, the best epoch (``epoch``, ``value``,
    ``state_dict``), the first epoch still to train, when ``last.pt`` was last written
    (``time.perf_counter``; the start of training before the first write) and, once the last epoch
    is written, the ``finished_id`` of the training."""

    history: list[dict[str, float]]
    best: dict[str, Any]
    start: int
    finished_id: str | None = None
    saved_at: float = field(default_factory=time.perf_counter)


def _prepare(model: torch.nn.Module, train_set: Dataset, settings: TrainingSettings, run_dir: Path,
             fingerprint: str, fabric: Fabric | None) -> _Training:
    """Fabric launched (unless given), torch threads set (at most the cores), gradient checkpointing on where asked,
    Adam and a cosine schedule over all optimiser steps, model and optimiser set up by Fabric."""
    fabric = fabric or launch(settings)
    torch.set_num_threads(fit_to_cores("training.num_threads", 1, settings.num_threads).threads)
    if settings.gradient_checkpointing:
        log.info("Gradient checkpointing in %s", enable_gradient_checkpointing(model) or "no encoder")
    # foreach: one kernel per step for all parameters; the same numbers as the per-tensor loop
    # (PyTorch's CPU default), 1.8 of the 4.7 ms a demo model's step spent in Adam
    optimizer = torch.optim.Adam(
        model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay,
        foreach=True,
    )
    micro_batches = math.ceil(math.ceil(len(train_set) / fabric.world_size)
                              / settings.micro_batch_size)
    steps_per_epoch = math.ceil(micro_batches / settings.accumulate_grad_batches)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=settings.epochs * steps_per_epoch
    )
    trained, stepper = fabric.setup(model, optimizer)
    return _Training(fabric, model, trained, optimizer, stepper, scheduler, settings, run_dir,
                     fingerprint, steps_per_epoch)


def _resume(training: _Training, seed: int, tracker: EpochLogger | None) -> _Progress:
    """The progress of a matching ``last.pt`` (read by process 0, given to all), its model,
    optimiser, schedule and RNG restored and its history rows replayed to ``tracker``; a fresh
    start (the global torch RNG seeded with ``seed``) otherwise."""
    fabric, settings, run_dir = training.fabric, training.settings, training.run_dir
    resumed = _from_process_zero(
        fabric, lambda: load_resumable(run_dir, training.fingerprint) if settings.resume else None
    )
    if resumed is None:
        torch.manual_seed(seed)
        return _Progress([], {"epoch": 0, "value": math.nan,
                              "state_dict": _cpu_state(training.model)}, 1)
    training.model.load_state_dict(resumed["model"])
    training.optimizer.load_state_dict(resumed["optimizer"])
    training.scheduler.load_state_dict(resumed["scheduler"])
    torch.set_rng_state(resumed["rng_state"])
    progress = _Progress(resumed["history"], resumed["best"], resumed["epoch"] + 1,
                         resumed.get("finished_id"))
    if fabric.is_global_zero:
        if progress.start > settings.epochs:
            log.info("%s is complete (%d epochs): reused", run_dir, settings.epochs)
        else:
            log.info("Resuming %s from epoch %d of %d", run_dir, progress.start, settings.epochs)
        if tracker is not None:
            for row in progress.history:
                tracker.log_epoch(int(row["epoch"]), row)
    return progress


def _train_epoch(training: _Training, objective: Objective, train_set: Dataset, seed: int,
                 epoch: int) -> dict[str, float]:
    """One epoch of optimiser steps over this process's shard of ``train_set``; returns the
    epoch's statistics over all processes (:func:`_epoch_statistics`).

    Raises:
        NonFiniteLossError: a loss term is NaN or infinite in any process.
    """
    fabric, settings, run_dir = training.fabric, training.settings, training.run_dir
    weights = objective.weights
    accumulate = settings.accumulate_grad_batches
    if hasattr(train_set, "set_epoch"):
        train_set.set_epoch(epoch)
    loader = epoch_loader(train_set, settings, seed * 100_003 + epoch, fabric.global_rank,
                          fabric.world_size, settings.pin_memory and fabric.device.type == "cuda")
    batches = WaitClock(loader, fabric.to_device)
    sums = dict.fromkeys(["loss", *weights], 0.0)
    diagnostics: dict[str, list[float]] = {}
    training.trained.train()
    for index, batch in enumerate(batches):
        group = index // accumulate
        group_size = min(accumulate, len(loader) - group * accumulate)
        ends_step = index + 1 == group * accumulate + group_size
        with fabric.no_backward_sync(training.trained, enabled=not ends_step):
            with fabric.autocast():
                step = objective(training.trained, batch)
            terms = step.terms
            loss = weighted_total(weights, terms)
            # summed over processes first, so that every process stops on a non-finite term
            totals = sum_over_processes(
                fabric, torch.stack([v.detach().float() for v in (loss, *terms.values())])
            ).tolist()
            for name, value in zip(terms, totals[1:]):
                if not math.isfinite(value):
                    raise NonFiniteLossError(
                        f"{run_dir}: loss term {name!r} is {value} at epoch {epoch}, "
                        f"batch {index}; {run_dir / LAST} holds the last epoch written, if any"
                    )
            fabric.backward(loss / group_size)
        if ends_step:
            training.stepper.step()
            training.optimizer.zero_grad(set_to_none=True)
            training.scheduler.step()
        for name, value in zip(["loss", *terms], totals):
            sums[name] += value / group_size
        for name, value in step.diagnostics.items():
            diagnostics.setdefault(name, []).append(value)
    training.trained.eval()
    return _epoch_statistics(fabric, sums, training.steps_per_epoch * fabric.world_size,
                             diagnostics, batches)


def _end_epoch(training: _Training, progress: _Progress, evaluated_row: Callable[[], dict],
               select_on: str, tracker: EpochLogger | None) -> None:
    """The epoch's history row (``evaluated_row()`` in process 0, given to all) appended, the best
    epoch updated, and process 0's record made (:func:`_record_epoch`): ``last.pt`` and ``best.pt``
    are written after the last epoch, and after any other once ``training.checkpoint_every_s``
    seconds have passed since the last write."""
    settings = training.settings
    row = _from_process_zero(training.fabric, evaluated_row)
    progress.history.append(row)
    progress.best = _updated_best(progress.best, row, select_on, training.model)
    save = (int(row["epoch"]) == settings.epochs
            or time.perf_counter() - progress.saved_at >= settings.checkpoint_every_s)
    progress.finished_id = _from_process_zero(training.fabric, partial(
        _record_epoch, row, progress.history, progress.best, training.model, training.optimizer,
        training.scheduler, run_dir=training.run_dir, fingerprint=training.fingerprint,
        tracker=tracker, select_on=select_on, epochs=settings.epochs,
        name=model_name(training.run_dir, settings.checkpoint_dir), save=save,
    ))
    if save:
        progress.saved_at = time.perf_counter()


def _from_process_zero(fabric: Fabric, work: Callable[[], T]) -> T:
    """``work()`` run in process 0, its result given to every process. When it raises, every
    process raises (the others a ``RuntimeError`` that names the error) rather than waiting for
    process 0 in the next collective."""
    if not fabric.is_global_zero:
        result, failure = fabric.broadcast(None)
        if failure is not None:
            raise RuntimeError(f"Process 0 failed: {failure}")
        return result
    try:
        result = work()
    except Exception as error:
        fabric.broadcast((None, f"{type(error).__name__}: {error}"))
        raise
    fabric.broadcast((result, None))
    return result


def _evaluated_row(evaluate: Callable[[torch.nn.Module], Mapping[str, float]],
                   model: torch.nn.Module, epoch: int, lr: float, began: float,
                   statistics: Mapping[str, float]) -> dict[str, float]:
    """The history row of ``epoch``: its learning rate, its seconds since ``began`` (evaluation
    included), its ``statistics`` and the scores of ``evaluate(model)``."""
    scores = dict(evaluate(model))
    return {"epoch": epoch, "lr": lr, "seconds": time.perf_counter() - began, **statistics,
            **scores}


def _epoch_statistics(fabric: Fabric, sums: Mapping[str, float], steps: int,
                      diagnostics: Mapping[str, list[float]], batches: WaitClock) -> dict[str, float]:
    """An epoch's means over all processes: ``data_wait_share`` (time waiting for batches over the
    time of the steps), ``loss`` and ``loss.<term>`` per optimiser step (``sums`` of each step's
    mean over its micro-batches, already summed over processes; ``steps`` counts the optimiser
    steps of all processes), and each diagnostic over its finite values."""
    names = list(diagnostics)
    finite = [[v for v in diagnostics[name] if math.isfinite(v)] for name in names]
    local = [batches.waited, batches.elapsed, *(sum(v) for v in finite), *(len(v) for v in finite)]
    totals = sum_over_processes(
        fabric, torch.tensor(local, dtype=torch.float64, device=fabric.device)
    ).tolist()
    waited, elapsed, diagnostic_sums, counts = (totals[0], totals[1], totals[2:2 + len(names)],
                                                totals[2 + len(names):])
    statistics = {"data_wait_share": waited / elapsed if elapsed > 0 else math.nan,
                  "loss": sums["loss"] / max(steps, 1)}
    statistics.update({f"loss.{name}": total / max(steps, 1)
                       for name, total in sums.items() if name != "loss"})
    statistics.update({name: total / count if count else math.nan
                       for name, total, count in zip(names, diagnostic_sums, counts)})
    return statistics


def _term_gradients(fabric: Fabric, objective: Objective, model: torch.nn.Module,
                    train_set: Dataset, settings: TrainingSettings) -> dict[str, float]:
    """The ``grad.*`` columns of an epoch: each loss term's gradient norm on the first micro-batch
    of ``train_set`` (:meth:`Objective.gradient_norms`, model in eval mode); none for an objective
    that does not measure them."""
    if not hasattr(objective, "gradient_norms"):
        return {}
    batch = fabric.to_device(probe_batch(train_set, settings.micro_batch_size))
    with fabric.autocast():
        return objective.gradient_norms(model, batch)


def _updated_best(best: dict[str, Any], row: Mapping[str, float], select_on: str,
                  model: torch.nn.Module) -> dict[str, Any]:
    """``best`` after the epoch of ``row``: that epoch (and ``model``'s weights) when it scores
    better on ``select_on``, or when it is the first."""
    if _is_better(row[select_on], best["value"]) or best["epoch"] == 0:
        return {"epoch": row["epoch"], "value": row[select_on], "state_dict": _cpu_state(model)}
    return best


def _record_epoch(row: Mapping[str, float], history: list[dict[str, float]], best: dict[str, Any],
                  model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any, *,
                  run_dir: Path, fingerprint: str, tracker: EpochLogger | None, select_on: str,
                  epochs: int, name: str, save: bool) -> str | None:
    """Process 0's record of an epoch: its row to ``tracker`` and the log (as model ``name``)
    and, when ``save``, ``best.pt`` (the best epoch's weights) and ``last.pt`` (everything to
    resume; after the last epoch, always saved, a new ``finished_id``, which it returns)."""
    epoch = int(row["epoch"])
    finished_id = timestamped_id() if epoch == epochs else None
    if tracker is not None:
        tracker.log_epoch(epoch, row)
    log.info("%s", epoch_line(name, row, epochs, select_on, best_epoch=int(best["epoch"])))
    if not save:
        return None
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / FINISHED).unlink(missing_ok=True)  # never beside a last.pt it does not describe
    write_torch_file(best["state_dict"], run_dir / BEST)
    write_torch_file(
        {
            "fingerprint": str(fingerprint),
            "fingerprint_parts": getattr(fingerprint, "parts", None),
            "epoch": epoch,
            "model": _cpu_state(model),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng_state": torch.get_rng_state(),
            "history": history,
            "best": best,
            "finished_id": finished_id,
        },
        run_dir / LAST,
    )
    if finished_id is not None:
        _write_finished(run_dir, fingerprint, epoch, finished_id)
    return finished_id


def _write_finished(run_dir: Path, fingerprint: str, epoch: int, finished_id: str) -> None:
    """:data:`FINISHED` for the finished ``last.pt`` of ``run_dir``."""
    with staged(run_dir / FINISHED) as staging:
        staging.write_text(json.dumps({"fingerprint": str(fingerprint), "epoch": int(epoch),
                                       "finished_id": finished_id}))


def model_name(run_dir: Path, checkpoint_dir: str | Path) -> str:
    """A model's name in the log: its run folder below ``checkpoint_dir``
    (``vicokd/V_S/Home1/seed0``, ``pretraining/visual``), else the whole folder."""
    run_dir = Path(run_dir)
    if run_dir.is_relative_to(checkpoint_dir):
        return run_dir.relative_to(checkpoint_dir).as_posix()
    return str(run_dir)


#: Validation scores of a history row, as the epoch's log line names them.
_VALIDATION = {"val_seq_map": "val mAP sequence", "val_map": "frame"}


def epoch_line(name: str, row: Mapping[str, float], epochs: int, select_on: str,
               best_epoch: int) -> str:
    """One epoch in one line: ``vicokd/V_S/Home1/seed0 epoch 3/15: loss 0.4120 (two_way_frame
    0.2000, ...), val mAP sequence 61.20 frame 40.10, best epoch 2 (val_seq_map), 2.1 s, data
    wait 3 %``."""
    terms = ", ".join(f"{key.removeprefix('loss.')} {value:.4f}" for key, value in row.items()
                      if key.startswith("loss."))
    scores = " ".join(f"{label} {row[key]:.2f}" for key, label in _VALIDATION.items() if key in row)
    if "val_seq_map" not in row:
        scores = f"val mAP {scores}" if scores else ""
    return (f"{name} epoch {int(row['epoch'])}/{epochs}: loss {row['loss']:.4f}"
            + (f" ({terms})" if terms else "") + (f", {scores}" if scores else "")
            + f", best epoch {best_epoch} ({select_on}), {row['seconds']:.1f} s, "
            f"data wait {100 * row['data_wait_share']:.0f} %")
