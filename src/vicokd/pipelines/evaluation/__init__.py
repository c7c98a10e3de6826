"""``evaluation`` pipeline: any trained model scored on a labelled dataset."""
from vicokd.pipelines.evaluation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
