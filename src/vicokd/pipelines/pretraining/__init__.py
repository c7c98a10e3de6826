"""The ``pretraining`` pipeline: the encoders every model starts from."""
from vicokd.pipelines.pretraining.pipeline import create_pipeline

__all__ = ["create_pipeline"]
