"""``training`` pipeline: one namespaced instance of the training template per run of the run table.

A run's instance has one node per supervision level (``train_V_F``, ``train_V_S``, ``train_AV_F``),
namespaced by the run's name, so ``kedro run --namespaces vicokd`` trains one run and kedro-viz shows
each run as a group. Its outputs ``<run>_model_<supervision>``, ``<run>_history_<supervision>`` and
``<run>_predictions_<supervision>`` come from the catalog's factories, and the node reads them back
as they are on disk (``<run>_published_<kind>_<supervision>``, the same folders) to reuse the models
already trained with the same inputs; a run that distils reads its teacher run's
``<teacher>_model_<supervision>``. Nodes are tagged with the run's name and group,
``teacher`` or ``distill``, and the supervision level (``kedro run --tags V_S``).
"""
from __future__ import annotations

from collections.abc import Mapping

from kedro.pipeline import Node, Pipeline

from vicokd.pipelines.training.nodes import train_models
from vicokd.training.run_names import OUTPUT_KINDS, dataset_name, published_name
from vicokd.training.run_table import RunSpec

#: Catalog datasets every run reads.
DATA_INPUTS = ("sequences", "splits", "frames", "log_mels", "visual_features", "audio_features",
               "encoders", "frame_labels", "visibility_masks", "person_confidence")
#: Parameters every run reads unchanged.
SHARED_PARAMETERS = {"training": "params:training", "model": "params:model",
                     "homes": "params:ingestion.homes", "seeds": "params:seeds",
                     "dataset": "params:dataset"}


def teacher_models(run: RunSpec, runs: Mapping[str, RunSpec]) -> str:
    """Catalog name of the checkpoints ``run`` distils from (its teacher run's only supervision)."""
    teacher = runs[run.teacher]
    return dataset_name(teacher.name, "model", teacher.supervisions[0])


def run_pipeline(run: RunSpec, runs: Mapping[str, RunSpec], baseline: str) -> Pipeline:
    """The template instantiated for ``run``: one training node per supervision level. A run that
    distils reads its teacher's checkpoints, and the baseline run's at the same supervision (to
    check that the teacher beats it)."""
    teacher = {"teacher_models": teacher_models(run, runs)} if run.distils else {}

    def baseline_input(supervision: str) -> dict[str, str]:
        if not run.distils or supervision not in runs[baseline].supervisions:
            return {}
        return {"baseline_models": dataset_name(baseline, "model", supervision)}

    def published(supervision: str) -> dict[str, str]:
        return {f"published_{kind}": f"published_{kind}_{supervision}" for kind in OUTPUT_KINDS}

    stage = "teacher" if run.group == "teacher" else "distill"
    nodes = [
        Node(
            train_models,
            inputs={**{name: name for name in DATA_INPUTS}, **teacher, **baseline_input(supervision),
                    **published(supervision), **SHARED_PARAMETERS,
                    "run": "params:run", "supervision": f"params:supervision_{supervision}"},
            outputs=[f"{kind}_{supervision}" for kind in OUTPUT_KINDS],
            name=f"train_{supervision}",
            tags=[run.name, run.group, stage, supervision],
        )
        for supervision in run.supervisions
    ]
    return Pipeline(
        nodes,
        namespace=run.name,
        inputs={**{name: name for name in (*DATA_INPUTS, *teacher.values())},
                **{v: v for s in run.supervisions for v in baseline_input(s).values()},
                **{f"published_{kind}_{s}": published_name(run.name, kind, s)
                   for kind in OUTPUT_KINDS for s in run.supervisions}},
        outputs={f"{kind}_{supervision}": dataset_name(run.name, kind, supervision)
                 for kind in OUTPUT_KINDS for supervision in run.supervisions},
        parameters={
            **{name: name for name in SHARED_PARAMETERS.values()},
            "params:run": f"params:runs.{run.name}",
            **{f"params:supervision_{s}": f"params:supervision_levels.{s}" for s in run.supervisions},
        },
    )


def create_pipeline(runs: Mapping[str, RunSpec], baseline: str) -> Pipeline:
    """Every run of ``runs`` (the validated run table: ``run_table.validate_run_table``), in table
    order; ``baseline`` names the plain student."""
    return sum((run_pipeline(run, runs, baseline) for run in runs.values()), Pipeline([]))
