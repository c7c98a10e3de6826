"""Custom Kedro datasets of the project."""
from vicokd.datasets.array_store import ArrayStore, ArrayStoreDataset

__all__ = ["ArrayStore", "ArrayStoreDataset"]
