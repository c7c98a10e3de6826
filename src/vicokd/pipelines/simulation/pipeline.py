"""The simulation pipeline: synthetic recordings → person truth → view overlap and a contact sheet."""
from kedro.pipeline import Node, Pipeline

from vicokd.pipelines.simulation.nodes import (
    draw_contact_sheet,
    measure_view_overlap,
    simulate_recordings,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Write the synthetic dataset (or check the real one) and report on it."""
    return Pipeline([
        Node(simulate_recordings,
             ["params:simulation", "params:ingestion.dataset_root", "params:ingestion.homes",
              "params:seed", "params:dataset"],
             ["recordings_manifest", "person_truth"], name="simulate_recordings"),
        Node(measure_view_overlap, "person_truth", "simulation_overlap", name="measure_view_overlap"),
        Node(draw_contact_sheet, ["recordings_manifest", "person_truth", "params:simulation"],
             "simulation_contact_sheet", name="draw_contact_sheet"),
    ])
