"""The simulation pipeline: a synthetic MultiSensor-Home dataset with ground truth."""
from vicokd.pipelines.simulation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
