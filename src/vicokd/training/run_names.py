"""Every name derived from a run of the run table, in one place.

A model is one run at one supervision level, for one home and seed. The run's outputs at a level are
the catalog datasets ``<run>_<kind>_<supervision>`` (the factories ``"{run}_model_{supervision}"``,
``"{run}_history_{supervision}"`` and ``"{run}_predictions_{supervision}"`` of
``conf/base/catalog_training.yml``), each a folder with one partition ``<home>/seed<k>`` per model
(read back by the run's own training node as ``<run>_published_<kind>_<supervision>``);
the training loop keeps a model's resume state in ``<checkpoint_dir>/<run>/<supervision>/<home>/seed<k>``
and MLflow names its run ``<run>/<supervision>/<home>/seed<k>``.
"""
from __future__ import annotations

from pathlib import Path

#: The catalog datasets of one run at one supervision level, by kind.
OUTPUT_KINDS = ("model", "history", "predictions")


def dataset_name(run: str, kind: str, supervision: str) -> str:
    """Catalog name of a run's ``model``, ``history`` or ``predictions`` at one supervision level
    (``vicokd_model_V_S``)."""
    return f"{run}_{kind}_{supervision}"


def published_name(run: str, kind: str, supervision: str) -> str:
    """Catalog name of the same folder as :func:`dataset_name`, read by the run's own training
    node to reuse what it published (``vicokd_published_model_V_S``)."""
    return dataset_name(run, f"published_{kind}", supervision)


def partition_key(home: str, seed: int) -> str:
    """One model's partition (``Home1/seed0``) in its run's model, history and prediction datasets."""
    return f"{home}/seed{seed}"


def partition_name(run: str, kind: str, supervision: str, home: str, seed: int) -> str:
    """One model's partition with its dataset (``vicokd_model_V_S/Home1/seed0``)."""
    return f"{dataset_name(run, kind, supervision)}/{partition_key(home, seed)}"


def run_folder(checkpoint_dir: str | Path, run: str, supervision: str, home: str, seed: int) -> Path:
    """Where the training loop keeps one model's ``last.pt`` (resume state) and ``best.pt``."""
    return Path(checkpoint_dir, run, supervision, partition_key(home, seed))


def tracking_name(run: str, supervision: str, home: str, seed: int) -> str:
    """One model's MLflow run name (``vicokd/V_S/Home1/seed0``)."""
    return f"{run}/{supervision}/{partition_key(home, seed)}"
