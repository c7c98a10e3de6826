"""``reporting`` pipeline: metrics of every model, the paper's Tables 1-4, Figures 3-4 and summary.md.

Every number comes from the prediction tables and histories the training pipelines wrote; nothing is
typed in. Table 4 reads whatever ablation predictions are on disk (``kedro run --pipeline
distill_ablations`` writes them), so ``kedro run --pipeline reporting`` refreshes it afterwards.
"""
import warnings

from kedro.pipeline import Node, Pipeline

from vicokd.pipelines.distill.pipeline import METHODS, SUPERVISIONS
from vicokd.pipelines.reporting import nodes
from vicokd.pipelines.teacher.pipeline import TEACHERS


def _kwargs(datasets: list[str]) -> dict[str, str]:
    """Node inputs passed by keyword: a namespaced name ``a.b`` becomes the argument ``a__b``."""
    return {name.replace(".", "__"): name for name in datasets}


def model_datasets(kind: str) -> list[str]:
    """Catalog names of every teacher's and student's ``predictions`` or ``history``."""
    return [f"{t}_{kind}" for t in TEACHERS] + [f"{m}.{kind}_{s}" for m in METHODS for s in SUPERVISIONS]


def create_pipeline(**kwargs) -> Pipeline:
    """Evaluate, tabulate, plot and summarise."""
    distill = "params:distill"  # its `methods` and `ablations` keys give the tables' row order
    with warnings.catch_warnings():
        # the reports read the namespaced students' outputs from outside their namespaces on purpose
        warnings.filterwarnings("ignore", message="One or more dataset names contain")
        evaluate = Node(nodes.evaluate_models, {"reporting": "params:reporting",
                                                **_kwargs(model_datasets("predictions"))},
                        "model_metrics", name="evaluate_models")
        curves = Node(nodes.plot_map_curves, {"reporting": "params:reporting", **_kwargs(model_datasets("history"))},
                      "map_curves", name="plot_map_curves")
        supervision = nodes.ATTENTION_SUPERVISION
        attention = Node(
            nodes.plot_attention_maps,
            ["teacher_model", f"student.model_{supervision}", f"vicokd.model_{supervision}", "sequences",
             "splits", "frames", "audio_features", "params:training", "params:reporting"],
            "attention_maps", name="plot_attention_maps",
        )
    return Pipeline([
        evaluate,
        Node(nodes.evaluate_ablations, ["model_metrics", "stored_predictions", distill, "params:reporting"],
             "ablation_metrics", name="evaluate_ablations"),
        Node(nodes.build_methods_table, ["model_metrics", distill, "params:reporting"],
             ["table1_methods", "table1_methods_csv"], name="build_methods_table"),
        Node(nodes.build_seeds_table, ["model_metrics", distill, "params:reporting"],
             ["table2_seeds", "table2_seeds_csv"], name="build_seeds_table"),
        Node(nodes.build_teacher_table, ["model_metrics", "params:reporting"],
             ["table3_teacher", "table3_teacher_csv"], name="build_teacher_table"),
        Node(nodes.build_ablation_table, ["model_metrics", "ablation_metrics", distill, "params:reporting"],
             ["table4_ablations", "table4_ablations_csv"], name="build_ablation_table"),
        Node(nodes.build_per_class_table, ["model_metrics", "ablation_metrics", "params:reporting"],
             ["per_class_ap", "per_class_ap_csv"], name="build_per_class_table"),
        Node(nodes.build_dataset_statistics, ["sequences", "splits"],
             ["dataset_statistics", "dataset_statistics_csv"], name="build_dataset_statistics"),
        curves,
        attention,
        Node(nodes.write_summary,
             ["table1_methods", "training_summary", "dataset_statistics", "mask_quality_table",
              "simulation_overlap", "model_metrics", "params:model", "params:training", "params:ingestion",
              "params:reporting"],
             "run_summary", name="write_summary"),
    ])
