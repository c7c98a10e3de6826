"""The ``features`` pipeline: the frozen encoders' embeddings of every frame, computed once."""
from vicokd.pipelines.features.pipeline import create_pipeline

__all__ = ["create_pipeline"]
