"""The ``training`` pipeline: every run of the run table, each a namespaced instance of one template."""
from vicokd.pipelines.training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
