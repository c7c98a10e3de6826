"""``inference`` pipeline: a trained student on new recordings."""
from vicokd.pipelines.inference.pipeline import create_pipeline

__all__ = ["create_pipeline"]
