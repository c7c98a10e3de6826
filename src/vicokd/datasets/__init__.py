"""Custom Kedro datasets of the project."""
from vicokd.datasets.array_store import ArrayStore, ArrayStoreDataset, StampedArrays
from vicokd.datasets.optional_json import OptionalJSONDataset
from vicokd.datasets.partitions import RunPartitionsDataset
from vicokd.datasets.sequence_table import CommittedIngestionDataset, SequenceTableDataset
from vicokd.datasets.torch_checkpoint import TorchCheckpointDataset

__all__ = [
    "ArrayStore",
    "ArrayStoreDataset",
    "CommittedIngestionDataset",
    "OptionalJSONDataset",
    "RunPartitionsDataset",
    "SequenceTableDataset",
    "StampedArrays",
    "TorchCheckpointDataset",
]
