"""The ``distill_ablations`` pipeline: the ViCoKD ablations, from the ``distill`` template."""
from vicokd.pipelines.distill.pipeline import create_ablation_pipeline as create_pipeline

__all__ = ["create_pipeline"]
