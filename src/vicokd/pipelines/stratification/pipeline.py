"""The stratification pipeline: splits, then the per-class counts of each split."""

from kedro.pipeline import Node, Pipeline

from vicokd.pipelines.stratification.nodes import count_classes_per_split, split_by_home


def create_pipeline(**kwargs) -> Pipeline:
    """``sequences`` → ``splits`` and the ``split_class_counts`` report."""
    return Pipeline(
        [
            Node(
                split_by_home,
                ["sequences", "params:stratification", "params:seed", "params:dataset"],
                "splits",
                name="split_by_home",
            ),
            Node(
                count_classes_per_split,
                ["sequences", "splits", "params:dataset"],
                ["split_class_counts", "split_class_counts_table"],
                name="count_classes_per_split",
            ),
        ]
    )
