"""A run's outputs, one file per home and seed, that may not have been trained yet."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kedro_datasets.partitions import PartitionedDataset


class RunPartitionsDataset(PartitionedDataset):
    """kedro-datasets' ``PartitionedDataset`` (one file per ``<home>/seed<k>``; saving adds or
    replaces only the partitions given) whose load of a folder with no partition yet is an empty
    mapping rather than an error, so a report can name what has not been trained."""

    def load(self) -> dict[str, Callable[[], Any]]:
        if not self._list_partitions():
            return {}
        return super().load()
