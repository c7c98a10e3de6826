"""``teacher`` pipeline: the AV_F teacher per home, and the Table-3 teacher with view consistency."""
from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from vicokd.pipelines.teacher.nodes import gather_clip_sources, train_teacher

#: Teacher recipes (keys of ``teacher.methods``) and their dataset prefixes.
TEACHERS = ("teacher", "teacher_vc")


def _train(method: str):
    return update_wrapper(partial(train_teacher, method=method), train_teacher)


def create_pipeline(**kwargs) -> Pipeline:
    """Gather the clip sources, then train each teacher recipe."""
    nodes = [
        Node(
            gather_clip_sources,
            inputs=["sequences", "splits", "frames", "audio_features", "frame_labels",
                    "visibility_masks", "person_confidence"],
            outputs="teacher_clip_sources",
            name="gather_teacher_clip_sources",
        )
    ]
    for method in TEACHERS:
        nodes.append(
            Node(
                _train(method),
                inputs=["teacher_clip_sources", "params:ingestion.homes", "params:model",
                        "params:training", "params:teacher", "params:seed"],
                outputs=[f"{method}_model", f"{method}_history", f"{method}_predictions"],
                name=f"train_{method}",
                tags=["teacher", method],
            )
        )
    return Pipeline(nodes)
