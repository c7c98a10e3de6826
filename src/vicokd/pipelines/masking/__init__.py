"""Masking: person confidence and binary visibility mask per view and 2.5-FPS frame."""
from vicokd.pipelines.masking.pipeline import create_pipeline

__all__ = ["create_pipeline"]
