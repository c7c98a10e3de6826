"""Stratification: train / val / test split per home."""

from vicokd.pipelines.stratification.pipeline import create_pipeline

__all__ = ["create_pipeline"]
