"""The ``teacher`` pipeline."""
from vicokd.pipelines.teacher.pipeline import create_pipeline

__all__ = ["create_pipeline"]
