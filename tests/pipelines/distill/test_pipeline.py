"""The distill pipeline on the test environment, on a teacher read from disk (one home for speed)."""
from collections.abc import Mapping

import pandas as pd
import pytest
import torch
from kedro.runner import SequentialRunner

from teacher.synthetic import env_parameters, project_catalog, synthetic_inputs
from vicokd.pipelines.distill import create_pipeline
from vicokd.pipelines.distill import nodes
from vicokd.pipelines.distill.nodes import load_frozen_teachers
from vicokd.pipelines.distill.pipeline import METHODS
from vicokd.pipelines.teacher import create_pipeline as create_teacher_pipeline
from vicokd.training import runs
from vicokd.training.runs import frozen_teacher

HOME = "Home1"


class RecordingStore(Mapping):
    """A frame-label store that records every sequence read."""

    def __init__(self, arrays):
        self.arrays, self.read = arrays, set()

    def __getitem__(self, key):
        self.read.add(key)
        return self.arrays[key]

    def __iter__(self):
        return iter(self.arrays)

    def __len__(self):
        return len(self.arrays)


def distill_catalog(folder, inputs, **training):
    """Catalog and parameters with every path under ``folder``, one home, ``training`` overrides."""
    params = env_parameters(folder)
    params["ingestion"]["homes"] = [HOME]
    params["training"].update(training)
    return params, project_catalog(folder, inputs, params)


@pytest.fixture(scope="module")
def inputs():
    return synthetic_inputs()


@pytest.fixture(scope="module")
def teacher_on_disk(tmp_path_factory, inputs):
    """A folder holding a Home1 teacher trained by the teacher pipeline."""
    folder = tmp_path_factory.mktemp("distill")
    _, catalog = distill_catalog(folder, inputs)
    SequentialRunner().run(create_teacher_pipeline(), catalog)
    return folder


def test_distill_pipeline_runs_alone_on_the_frozen_teacher_from_disk(
    teacher_on_disk, inputs, monkeypatch
):
    _, catalog = distill_catalog(teacher_on_disk, inputs)
    pipeline = create_pipeline()
    assert "teacher_model" in pipeline.inputs()  # read from disk, not trained by this pipeline
    checkpoint = catalog.load("teacher_model")[HOME]
    teachers_used = []

    def capture(*args):
        teachers_used.append(frozen_teacher(*args))
        return teachers_used[-1]

    monkeypatch.setattr(nodes, "frozen_teacher", capture)
    SequentialRunner().run(pipeline, catalog)

    for method in METHODS:
        for supervision in ("V_F", "V_S"):
            student = catalog.load(f"{method}.model_{supervision}")[HOME]
            assert student["with_audio"] is False
            assert student["metadata"]["method"] == method
            assert student["metadata"]["fingerprint"] != checkpoint["metadata"]["fingerprint"]
            predictions = pd.read_parquet(teacher_on_disk / "data/07_model_output/predictions"
                                          / f"{method}_{supervision}.parquet")
            assert set(predictions["supervision"]) == {supervision}
    summary = pd.read_csv(teacher_on_disk / "data/08_reporting/training_summary.csv")
    assert set(summary["model"]) == {"teacher_AV_F", "teacher_vc_AV_F"} | {
        f"{m}_{s}" for m in METHODS for s in ("V_F", "V_S")}
    # one frozen teacher per method, in eval mode, weights identical to the checkpoint after use
    assert len(teachers_used) == len(METHODS)
    for teacher in teachers_used:
        assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
        for key, value in checkpoint["state_dict"].items():
            assert torch.equal(teacher.state_dict()[key], value), key


def test_sequence_supervision_reads_no_training_frame_labels(tmp_path, teacher_on_disk, inputs):
    store = RecordingStore(inputs["frame_labels"])
    _, catalog = distill_catalog(teacher_on_disk, {**inputs, "frame_labels": store},
                                 checkpoint_dir=str(tmp_path / "runs"))
    vicokd = create_pipeline().only_nodes_with_namespaces(["vicokd"])
    SequentialRunner().run(vicokd.to_nodes("vicokd.train_V_S"), catalog)
    splits = inputs["splits"].set_index("sequence_id")["split"]
    assert store.read  # validation and test frames are still scored frame by frame
    assert {splits[key] for key in store.read} == {"val", "test"}
    assert "loss.frame" not in catalog.load("vicokd.history_V_S").columns


def test_teacher_of_another_configuration_is_refused(teacher_on_disk, inputs):
    params, catalog = distill_catalog(teacher_on_disk, inputs)
    model = {**params["model"], "dim": params["model"]["dim"] * 2}
    with pytest.raises(ValueError, match=r"another model configuration.*model\.dim"):
        load_frozen_teachers(catalog.load("teacher_model"), model, [HOME])


def test_resume_continues_from_the_saved_epoch(tmp_path, teacher_on_disk, inputs, monkeypatch):
    _, catalog = distill_catalog(teacher_on_disk, inputs, epochs=2,
                                 checkpoint_dir=str(tmp_path / "runs"))
    student = create_pipeline().only_nodes_with_namespaces(["student"]).to_nodes("student.train_V_S")
    fit, epochs_run = runs.fit, []

    def interrupted_fit(*args, **kwargs):
        def stop(epoch):
            epochs_run.append(epoch)
            raise KeyboardInterrupt

        return fit(*args, on_epoch_end=stop, **kwargs)

    def recorded_fit(*args, **kwargs):
        return fit(*args, on_epoch_end=epochs_run.append, **kwargs)

    monkeypatch.setattr(runs, "fit", interrupted_fit)
    with pytest.raises(KeyboardInterrupt):
        SequentialRunner().run(student, catalog)
    monkeypatch.setattr(runs, "fit", recorded_fit)
    SequentialRunner().run(student, catalog)
    assert epochs_run == [1, 2]
    assert list(catalog.load("student.history_V_S")["epoch"]) == [1, 2]
