"""``pretraining`` pipeline: the visual and audio encoders that the teacher and every student start
from, pretrained on homes that are never evaluated (or a checkpoint named by the model block)."""
from kedro.pipeline import Node, Pipeline

from vicokd.pipelines.pretraining.nodes import pretrain_encoders


def create_pipeline(**kwargs) -> Pipeline:
    """One node: the encoders and their ``encoders`` record."""
    return Pipeline([
        Node(pretrain_encoders,
             ["sequences", "splits", "frames", "log_mels", "frame_labels", "visibility_masks",
              "params:model", "params:pretraining", "params:training", "params:seed",
              "params:ingestion.homes", "params:dataset"],
             "encoders", name="pretrain_encoders"),
    ])
