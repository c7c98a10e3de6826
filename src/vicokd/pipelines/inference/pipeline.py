"""``inference`` pipeline: the student chosen by ``inference.model`` over every recording under
``inference.recordings``
(``kedro run --pipelines inference --params inference.recordings=<folder>``).

It calibrates the model on its home's validation split (window and per-class thresholds, stored
beside the models), exports it (``data/06_models/exported``) and writes per recording its frame
scores, action segments and timeline picture. See docs/inference.md.
"""
from __future__ import annotations

from collections.abc import Mapping

from kedro.pipeline import Node, Pipeline

from vicokd.inference.checkpoints import model_datasets
from vicokd.pipelines.inference import nodes
from vicokd.training.run_table import RunSpec


def create_pipeline(runs: Mapping[str, RunSpec]) -> Pipeline:
    """The inference nodes; ``runs`` (the resolved run table) names the checkpoints."""
    return Pipeline([
        Node(nodes.find_new_recordings, "params:inference", "inference_recordings",
             name="find_new_recordings"),
        Node(nodes.select_model, {"inference": "params:inference",
                                  "homes": "params:ingestion.homes",
                                  **{name: name for name in model_datasets(runs)}},
             "inference_checkpoint", name="select_inference_model"),
        Node(nodes.calibrate_model,
             ["inference_checkpoint", "sequences", "splits", "frames", "log_mels", "frame_labels",
              "params:inference", "params:training.num_frames"],
             ["model_calibrations", "inference_calibration"], name="calibrate_model"),
        Node(nodes.export_model, ["inference_checkpoint", "inference_calibration",
                                  "params:inference", "params:ingestion"],
             "exported_students", name="export_model"),
        Node(nodes.run_inference, ["inference_checkpoint", "inference_calibration",
                                   "inference_recordings", "params:inference", "params:ingestion"],
             ["inference_frame_scores", "inference_segments", "inference_timelines",
              "inference_report"], name="run_inference"),
    ], tags=["inference"])
