"""The reporting pipeline: the paper's tables and figures from the runs."""
from vicokd.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
