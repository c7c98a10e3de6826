"""``features`` pipeline: the feature cache of the frozen encoders (04_feature)."""
from kedro.pipeline import Node, Pipeline

from vicokd.pipelines.features.nodes import cache_features


def create_pipeline(**kwargs) -> Pipeline:
    """One node: ``visual_features`` and ``audio_features`` of every evaluation sequence."""
    return Pipeline([
        Node(cache_features,
             ["sequences", "frames", "log_mels", "encoders", "params:model", "params:ingestion.homes",
              "params:features.batch_size"],
             ["visual_features", "audio_features"], name="cache_features"),
    ])
