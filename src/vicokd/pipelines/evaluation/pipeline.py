"""``evaluation`` pipeline: the model chosen by ``evaluation.model`` scored on the annotated
sequences under ``evaluation.dataset_root`` (``kedro run --pipelines evaluation``), with reporting's
metrics and a segment-level detection mAP. See docs/inference.md."""
from __future__ import annotations

from collections.abc import Mapping

from kedro.pipeline import Node, Pipeline

from vicokd.inference.checkpoints import model_datasets
from vicokd.pipelines.evaluation import nodes
from vicokd.training.run_table import RunSpec


def create_pipeline(runs: Mapping[str, RunSpec]) -> Pipeline:
    """The evaluation nodes; ``runs`` (the resolved run table) names the checkpoints."""
    models = {name: name for name in model_datasets(runs)}
    return Pipeline([
        Node(nodes.select_model, {"evaluation": "params:evaluation",
                                  "homes": "params:ingestion.homes", **models},
             "evaluation_checkpoint", name="select_evaluation_model"),
        Node(nodes.calibrate_model,
             ["evaluation_checkpoint", "sequences", "splits", "frames", "log_mels", "frame_labels",
              "params:inference", "params:training.num_frames"],
             "evaluation_calibration", name="calibrate_evaluated_model"),
        Node(nodes.evaluate_model,
             ["evaluation_checkpoint", "evaluation_calibration", "splits", "params:evaluation",
              "params:inference", "params:ingestion", "params:training", "params:runs", "params:features.batch_size",
              "params:reporting"],
             ["evaluation_metrics", "evaluation_per_class_ap", "evaluation_per_class_ap_csv",
              "evaluation_segments", "evaluation_segment_map", "evaluation_report"],
             name="evaluate_model"),
    ], tags=["evaluation"])
