"""Ingestion: MultiSensor-Home recordings → sequence table, frames, audio features, frame labels."""

from vicokd.pipelines.ingestion.pipeline import create_pipeline

__all__ = ["create_pipeline"]
