"""``distill`` pipeline: one namespaced instance of the student template per method.

``kedro run --pipeline distill --namespaces vicokd`` trains one method; kedro-viz shows one
collapsible group per method. ``distill_ablations`` instantiates the same template for the
ablation recipes (``distill.ablations``).
"""
import warnings
from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from vicokd.pipelines.distill.nodes import (
    load_frozen_teachers,
    summarise_training,
    train_students,
    withhold_training_frame_labels,
)
from vicokd.pipelines.teacher.nodes import gather_clip_sources

#: Comparison methods (keys of ``distill.methods``), in the order of the paper's Table 1.
METHODS = ("student", "logitkd", "modalkd", "dualkd", "cokd", "vicokd")
#: Ablations of ViCoKD (keys of ``distill.ablations``), in the order of the paper's Table 2.
ABLATIONS = ("no_confw", "no_mask", "kl", "no_fd", "no_ld")
#: Supervision levels: V_F reads frame and sequence labels, V_S sequence labels only.
SUPERVISIONS = {"V_F": "clip_sources", "V_S": "weak_clip_sources"}
#: Parameters every method reads unchanged (not namespaced).
SHARED_PARAMETERS = ("params:ingestion.homes", "params:model", "params:training",
                     "params:distill", "params:seed")
#: Catalog datasets every method reads (not namespaced).
SHARED_INPUTS = ("sequences", "splits", "frames", "audio_features", "frame_labels",
                 "visibility_masks", "person_confidence", "teacher_model")


def _train(method: str, supervision: str):
    return update_wrapper(
        partial(train_students, method=method, supervision=supervision), train_students
    )


def method_template(method: str, recipe_group: str) -> Pipeline:
    """The students of one method, namespaced by ``method`` and reading only catalog datasets, so
    ``--namespaces <method>`` runs alone: clip sources, the frozen teachers, a V_F node (frame +
    sequence labels) and a V_S node (clip sources whose training frame labels are withheld)."""
    nodes = [
        Node(
            gather_clip_sources,
            inputs=["sequences", "splits", "frames", "audio_features", "frame_labels",
                    "visibility_masks", "person_confidence"],
            outputs="clip_sources",
            name="gather_clip_sources",
            tags=["distill", *SUPERVISIONS],
        ),
        Node(withhold_training_frame_labels, "clip_sources", "weak_clip_sources",
             name="withhold_training_frame_labels", tags=["distill", "V_S"]),
        Node(load_frozen_teachers, ["teacher_model", "params:model", "params:ingestion.homes"],
             "frozen_teachers", name="load_frozen_teachers", tags=["distill", *SUPERVISIONS]),
    ]
    nodes += [
        Node(
            _train(method, supervision),
            inputs=[sources, "frozen_teachers", "params:ingestion.homes", "params:model",
                    "params:training", "params:distill", "params:recipe", "params:seed"],
            outputs=[f"model_{supervision}", f"history_{supervision}",
                     f"predictions_{supervision}"],
            name=f"train_{supervision}",
            tags=["distill", supervision],
        )
        for supervision, sources in SUPERVISIONS.items()
    ]
    return Pipeline(
        nodes,
        namespace=method,
        inputs=set(SHARED_INPUTS),
        parameters={
            **{name: name for name in SHARED_PARAMETERS},
            "params:recipe": f"params:distill.{recipe_group}.{method}",
        },
    )


def summary(methods: tuple[str, ...], output: str, extra: tuple[str, ...] = ()) -> Pipeline:
    """One table of every model's best epoch and mAPs."""
    histories = [*extra, *(f"{m}.history_{s}" for m in methods for s in SUPERVISIONS)]
    with warnings.catch_warnings():
        # reading the namespaced histories from outside their namespaces is the point here
        warnings.filterwarnings("ignore", message="One or more dataset names contain")
        summarise = Node(summarise_training, {name.replace(".", "__"): name for name in histories},
                         output, name=f"summarise_{output}")
    return Pipeline([summarise])


def create_pipeline(**kwargs) -> Pipeline:
    """The six methods × two supervision levels, and the training summary."""
    return (
        sum((method_template(m, "methods") for m in METHODS), Pipeline([]))
        + summary(METHODS, "training_summary", extra=("teacher_history", "teacher_vc_history"))
    )


def create_ablation_pipeline() -> Pipeline:
    """The ViCoKD ablations × two supervision levels, and their summary."""
    return (
        sum((method_template(m, "ablations") for m in ABLATIONS), Pipeline([]))
        + summary(ABLATIONS, "ablation_summary")
    )
