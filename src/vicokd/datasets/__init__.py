"""Custom Kedro datasets of the project."""
from vicokd.datasets.array_store import ArrayStore, ArrayStoreDataset
from vicokd.datasets.torch_checkpoint import TorchCheckpointDataset

__all__ = ["ArrayStore", "ArrayStoreDataset", "TorchCheckpointDataset"]
