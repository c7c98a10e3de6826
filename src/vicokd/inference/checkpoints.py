"""Choosing one trained model among every run's checkpoints (as the catalog hands them over)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from vicokd.inference.settings import ModelChoice
from vicokd.training.run_names import dataset_name, partition_key
from vicokd.training.run_table import RunSpec

#: ``<home>/seed<k> -> loader`` of one run's checkpoints at one supervision level.
Partitions = Mapping[str, Callable[[], Any]]


def scoring_device(accelerator: str) -> torch.device:
    """The device of ``inference.accelerator``: ``auto`` is CUDA when present, else the CPU."""
    if accelerator == "cuda" and not torch.cuda.is_available():
        raise ValueError("Parameter 'inference.accelerator' is 'cuda' but no CUDA device is available")
    cuda = accelerator == "cuda" or (accelerator == "auto" and torch.cuda.is_available())
    return torch.device("cuda" if cuda else "cpu")


def model_datasets(runs: Mapping[str, RunSpec]) -> list[str]:
    """Catalog names of every run's checkpoints at every supervision level, in run-table order."""
    return [dataset_name(run.name, "model", supervision)
            for run in runs.values() for supervision in run.supervisions]


def model_key(choice: ModelChoice, homes: list[str]) -> tuple[str, str]:
    """The catalog name of the chosen run's checkpoints and the partition of its home and seed
    (``home: null`` is the first of ``homes``)."""
    home = choice.home if choice.home is not None else homes[0]
    return dataset_name(choice.run, "model", choice.supervision), partition_key(home, choice.seed)


def model_name(metadata: Mapping[str, Any]) -> str:
    """``vicokd/V_S/Home1/seed0``: a checkpoint's model among all trained ones."""
    key = partition_key(metadata["home"], metadata["seed"])
    return f"{metadata['run']}/{metadata['supervision']}/{key}"


def choose_checkpoint(models: Mapping[str, Partitions], choice: ModelChoice, homes: list[str],
                      key: str) -> dict[str, Any]:
    """The checkpoint ``choice`` names among ``models`` (catalog name -> partitions).

    Raises ``ValueError`` naming the parameter ``key`` when the run and supervision are not in the
    run table or that home and seed have not been trained.
    """
    name, partition = model_key(choice, homes)
    if name not in models:
        known = ", ".join(sorted(models))
        raise ValueError(f"Parameter '{key}': run {choice.run!r} at supervision "
                         f"{choice.supervision!r} is not in the run table (known: {known}).")
    trained = models[name]
    if partition not in trained:
        raise ValueError(
            f"Parameter '{key}': {name} has no model for {partition} (trained: "
            f"{sorted(trained) or 'none'}); train it with `kedro run --pipelines training "
            f"--namespaces {choice.run}`.")
    return trained[partition]()
