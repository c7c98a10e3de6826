"""``reporting`` pipeline: metrics of every trained model with their intervals, the paper's Tables
1-4, segment-level detection mAP, the claims table, Figures 3-4 and summary.md.

Every number comes from the predictions and histories the training template wrote for each run of
the run table, read through the catalog (kedro-viz shows where each table comes from); nothing is
typed in. Labels, the grouping into tables (teachers, methods, ablations) and the claims come from
the run table.

All reports or none: every node computes into memory (``pending_<report>``, memory datasets of
``conf/base/catalog_reporting_pending.yml``), and one last node, ``publish_reports``, returns them all
to their files. An error while computing leaves every previous report as it was.
"""
from __future__ import annotations

from collections.abc import Mapping

from kedro.pipeline import Node, Pipeline

from vicokd.pipelines.reporting import nodes
from vicokd.training.run_names import dataset_name
from vicokd.training.run_table import RunSpec

PENDING = nodes.PENDING


def _outputs(runs: Mapping[str, RunSpec], kind: str, prefix: str = "") -> dict[str, str]:
    """``{prefix + dataset: dataset}`` (node inputs by keyword) of every run's ``kind`` at every
    supervision level, in run-table order."""
    names = [dataset_name(run.name, kind, supervision)
             for run in runs.values() for supervision in run.supervisions]
    return {prefix + name: name for name in names}


def _pending(*reports: str) -> list[str]:
    return [PENDING + report for report in reports]


def create_pipeline(runs: Mapping[str, RunSpec], attention_models: Mapping[str, str]) -> Pipeline:
    """Evaluate, tabulate, plot and summarise the runs of ``runs`` (the resolved run table);
    ``attention_models`` (``run -> supervision``) are drawn in Figure 4."""
    figure4 = {name: name for name in (dataset_name(run, "model", supervision)
                                       for run, supervision in attention_models.items())}
    metrics = [PENDING + "model_metrics", "model_replicates"]
    tables = {
        nodes.build_methods_table: ([*metrics, "params:baseline", "params:reporting"], "table1_methods"),
        nodes.build_seeds_table: ([metrics[0], "params:reporting"], "table2_seeds"),
        nodes.build_teacher_table: ([*metrics, "params:reporting"], "table3_teacher"),
        nodes.build_ablation_table: ([*metrics, "params:reporting"], "table4_ablations"),
        nodes.build_per_class_table: ([metrics[0], "params:reporting"], "per_class_ap"),
        nodes.build_dataset_statistics: (["sequences", "splits"], "dataset_statistics"),
        nodes.build_claims: ([*metrics, "params:runs", "params:baseline", "params:ingestion.homes",
                              "params:reporting"], "claims"),
    }
    computing = Pipeline([
        Node(nodes.collect_predictions, {"runs": "params:runs", "homes": "params:ingestion.homes",
                                         "seeds": "params:seeds", "reporting": "params:reporting",
                                         **_outputs(runs, "predictions", prefix="predictions__"),
                                         **_outputs(runs, "history", prefix="history__")},
             ["test_predictions", PENDING + "model_inventory"], name="collect_predictions"),
        Node(nodes.evaluate_models, ["test_predictions", "params:reporting"], PENDING + "model_metrics",
             name="evaluate_models"),
        Node(nodes.bootstrap_models, ["test_predictions", "params:reporting", "params:seed",
                                      "published_bootstrap_draws"],
             ["model_replicates", "bootstrap_draws"], name="bootstrap_models"),
        Node(nodes.build_segment_map_table,
             ["test_predictions", "sequences", "params:inference.threshold_candidates",
              "params:evaluation.tiou_thresholds", "params:reporting", "params:dataset",
              "published_segment_map_metrics"],
             [*_pending("segment_map", "segment_map_csv"), "segment_map_metrics"],
             name="build_segment_map_table"),
        Node(nodes.summarise_training, _outputs(runs, "history"), PENDING + "training_summary",
             name="summarise_training"),
        *(Node(build, inputs, _pending(report, f"{report}_csv"), name=build.__name__)
          for build, (inputs, report) in tables.items()),
        Node(nodes.plot_map_curves, _outputs(runs, "history"), PENDING + "map_curves", name="plot_map_curves"),
        Node(nodes.plot_attention_maps,
             {"sequences": "sequences", "splits": "splits", "frames": "frames",
              "log_mels": "log_mels", "training": "params:training",
              "reporting": "params:reporting", "model_metrics": PENDING + "model_metrics",
              **figure4},
             PENDING + "attention_maps", name="plot_attention_maps"),
        Node(nodes.compute_saliency_maps,
             {"splits": "splits", "frames": "frames", "log_mels": "log_mels",
              "frame_labels": "frame_labels", "training": "params:training",
              "model_metrics": PENDING + "model_metrics", **figure4},
             "figure4_saliency", name="compute_saliency_maps"),
        Node(nodes.plot_saliency_maps,
             {"sequences": "sequences", "splits": "splits", "frames": "frames",
              "log_mels": "log_mels", "frame_labels": "frame_labels",
              "person_truth": "person_truth", "saliency": "figure4_saliency",
              "training": "params:training", "reporting": "params:reporting",
              "model_metrics": PENDING + "model_metrics", "dataset": "params:dataset", **figure4},
             _pending("saliency_maps", "human_centric_share", "human_centric_share_csv"),
             name="plot_saliency_maps"),
        Node(nodes.write_summary,
             [*_pending("table1_methods_csv", "claims_csv"), "model_replicates",
              *_pending("training_summary", "dataset_statistics_csv"), "mask_quality_table",
              "simulation_overlap", *_pending("model_metrics", "model_inventory"), "params:model",
              "params:training", "params:ingestion", "params:baseline", "params:reporting"],
             _pending("run_summary", "report_record"), name="write_summary"),
    ])
    pending = sorted(name for name in computing.all_outputs() if name.startswith(PENDING))
    publish = Node(nodes.publish_reports, {name: name for name in pending},
                   {name.removeprefix(PENDING): name.removeprefix(PENDING) for name in pending},
                   name="publish_reports")
    return computing + Pipeline([publish])
