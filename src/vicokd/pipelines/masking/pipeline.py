"""The masking pipeline: person detector → person confidence → visibility masks → mask quality."""
from kedro.pipeline import Node, Pipeline

from vicokd.pipelines.masking.nodes import (
    choose_mask_threshold,
    evaluate_masks,
    prepare_person_detector,
    score_person_confidence,
    threshold_masks,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Masks for every view and 2.5-FPS frame, aligned with the ``frames`` store."""
    return Pipeline([
        Node(prepare_person_detector,
             ["frames", "splits", "person_truth", "params:masking", "params:seed",
              "params:dataset"],
             "person_detector", name="train_person_detector"),
        Node(score_person_confidence,
             ["frames", "person_truth", "person_detector", "params:masking", "params:dataset"],
             "person_confidence", name="score_person_confidence"),
        Node(choose_mask_threshold,
             ["person_confidence", "person_truth", "splits", "params:masking", "params:dataset"],
             "mask_threshold",
             name="choose_mask_threshold"),
        Node(threshold_masks, ["person_confidence", "mask_threshold"], "visibility_masks",
             name="threshold_masks"),
        Node(evaluate_masks,
             ["visibility_masks", "person_truth", "splits", "person_detector", "mask_threshold",
              "params:dataset"],
             ["mask_quality", "mask_quality_table"], name="evaluate_masks"),
    ])
