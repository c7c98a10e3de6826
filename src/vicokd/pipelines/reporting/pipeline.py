"""``reporting`` pipeline: metrics of every trained model, the paper's Tables 1-4, Figures 3-4 and
summary.md.

Every number comes from the predictions and histories the training template wrote for each run of
the run table, read through the catalog (kedro-viz shows where each table comes from); nothing is
typed in. Labels and the grouping into tables (teachers, methods, ablations) come from the run table.
"""
from __future__ import annotations

from collections.abc import Mapping

from kedro.pipeline import Node, Pipeline

from vicokd.pipelines.reporting import nodes
from vicokd.training.run_table import RunSpec, output_name


def _outputs(runs: Mapping[str, RunSpec], kind: str, prefix: str = "") -> dict[str, str]:
    """``{prefix + dataset: dataset}`` (node inputs by keyword) of every run's ``kind`` at every
    supervision level, in run-table order."""
    names = [output_name(run.name, kind, supervision) for run in runs.values() for supervision in run.supervisions]
    return {prefix + name: name for name in names}


def create_pipeline(runs: Mapping[str, RunSpec], attention_models: Mapping[str, str]) -> Pipeline:
    """Evaluate, tabulate, plot and summarise the runs of ``runs`` (the resolved run table);
    ``attention_models`` (``run -> supervision``) are drawn in Figure 4."""
    figure4 = {name: name for name in (output_name(run, "model", supervision)
                                       for run, supervision in attention_models.items())}
    tables = {
        nodes.build_seeds_table: ["table2_seeds", "table2_seeds_csv"],
        nodes.build_teacher_table: ["table3_teacher", "table3_teacher_csv"],
        nodes.build_ablation_table: ["table4_ablations", "table4_ablations_csv"],
        nodes.build_per_class_table: ["per_class_ap", "per_class_ap_csv"],
    }
    return Pipeline([
        Node(nodes.evaluate_models, {"reporting": "params:reporting", "runs": "params:runs",
                                     "homes": "params:ingestion.homes",
                                     "seeds": "params:seeds",
                                     **_outputs(runs, "predictions", prefix="predictions__"),
                                     **_outputs(runs, "history", prefix="history__")},
             ["model_metrics", "model_inventory"], name="evaluate_models"),
        Node(nodes.summarise_training, _outputs(runs, "history"), "training_summary",
             name="summarise_training"),
        Node(nodes.build_methods_table, ["model_metrics", "params:baseline", "params:reporting"],
             ["table1_methods", "table1_methods_csv"], name="build_methods_table"),
        *(Node(build, ["model_metrics", "params:reporting"], outputs, name=build.__name__)
          for build, outputs in tables.items()),
        Node(nodes.build_dataset_statistics, ["sequences", "splits"],
             ["dataset_statistics", "dataset_statistics_csv"], name="build_dataset_statistics"),
        Node(nodes.plot_map_curves, _outputs(runs, "history"), "map_curves", name="plot_map_curves"),
        Node(nodes.plot_attention_maps,
             {"sequences": "sequences", "splits": "splits", "frames": "frames",
              "log_mels": "log_mels", "training": "params:training",
              "reporting": "params:reporting", "model_metrics": "model_metrics", **figure4},
             "attention_maps", name="plot_attention_maps"),
        Node(nodes.plot_saliency_maps,
             {"sequences": "sequences", "splits": "splits", "frames": "frames",
              "log_mels": "log_mels", "frame_labels": "frame_labels",
              "person_truth": "person_truth", "training": "params:training",
              "reporting": "params:reporting", "model_metrics": "model_metrics", **figure4},
             ["saliency_maps", "human_centric_share", "human_centric_share_csv"],
             name="plot_saliency_maps"),
        Node(nodes.write_summary,
             ["table1_methods", "training_summary", "dataset_statistics", "mask_quality_table",
              "simulation_overlap", "model_metrics", "model_inventory", "params:model", "params:training",
              "params:ingestion", "params:baseline", "params:reporting"],
             "run_summary", name="write_summary"),
    ])
