"""A model's fingerprint follows everything it learns from: relabelled sequences change the teacher's,
V_F's and V_S's, and a student whose teacher changed is trained again."""
import numpy as np
import pytest
from synthetic_project import HOMES

from project_parameters import load_parameters, multisensor_home
from vicokd.data.clips import ClipSources, join_splits
from vicokd.models import ModelConfig
from vicokd.training.recipes import Supervision
from vicokd.training.run_table import RunSpec
from vicokd.training.runs import TrainingJob, job_fingerprint
from vicokd.training.settings import TrainingSettings

CLASSES = multisensor_home().classes
ENCODERS = {"visual": {"pretrained": "v", "fingerprint": "e1"},
            "audio": {"pretrained": "a", "fingerprint": "e2"}}


@pytest.fixture(scope="module")
def parameters():
    return load_parameters("test")


def job(parameters, run: str, supervision: str, home: str, teacher: str = "t1") -> TrainingJob:
    row = RunSpec.model_validate(parameters["runs"][run])
    return TrainingJob(row, Supervision.model_validate(parameters["supervision_levels"][supervision]),
                       TrainingSettings.model_validate(parameters["training"]),
                       ModelConfig.model_validate(parameters["model"]), home, 0, ENCODERS,
                       {"metadata": {"fingerprint": teacher}} if row.distils else None)


def sources_of(inputs, sequences=None, frame_labels=None) -> ClipSources:
    return ClipSources(join_splits(sequences if sequences is not None else inputs["sequences"],
                                   inputs["splits"]),
                       inputs["frames"], inputs["log_mels"], inputs["visibility_masks"],
                       inputs["person_confidence"], frame_labels or inputs["frame_labels"], CLASSES)


def relabelled(inputs):
    """The sources after one Home1 training sequence's only instance of a class became Eat, as a
    re-ingestion of the corrected annotation gives them (sequence labels and frame labels)."""
    splits = inputs["splits"].set_index("sequence_id")["split"]
    changed = next(sid for sid in splits.index if sid.startswith("Home1") and splits[sid] == "train")
    sequences = inputs["sequences"].copy()
    row = sequences.index[sequences["sequence_id"] == changed][0]
    old = sequences.at[row, "labels"][0]
    assert old != "Eat"
    sequences.at[row, "labels"] = sorted({"Eat", *sequences.at[row, "labels"][1:]})
    labels = inputs["frame_labels"][changed].copy()
    labels[:, CLASSES.index("Eat")] |= labels[:, CLASSES.index(old)]
    labels[:, CLASSES.index(old)] = 0
    return sources_of(inputs, sequences, {**inputs["frame_labels"], changed: labels})


def test_relabelling_changes_the_teacher_and_both_students_of_that_home_only(inputs, parameters):
    before, after = sources_of(inputs), relabelled(inputs)
    for home in HOMES:
        for run, supervision in (("teacher", "AV_F"), ("student", "V_F"), ("student", "V_S"),
                                 ("vicokd", "V_F"), ("vicokd", "V_S")):
            model = job(parameters, run, supervision, home)
            old, new = job_fingerprint(before, model), job_fingerprint(after, model)
            assert (old != new) == (home == "Home1"), (run, supervision, home)
    v_s = job(parameters, "student", "V_S", "Home1")
    changed = {key for key, digest in job_fingerprint(after, v_s).parts["data"].items()
               if digest != job_fingerprint(before, v_s).parts["data"][key]}
    assert changed == {"labels"}  # V_S never reads the training frame labels, only the labels


def test_a_student_whose_teacher_changed_is_trained_again(inputs, parameters):
    sources = sources_of(inputs)
    for supervision in ("V_F", "V_S"):
        same = job_fingerprint(sources, job(parameters, "vicokd", supervision, "Home1", "t1"))
        other = job_fingerprint(sources, job(parameters, "vicokd", supervision, "Home1", "t2"))
        assert same != other and other.parts["teacher"] == "t2"


def test_the_label_digest_ignores_the_order_of_a_sequence_labels(inputs):
    sequences = inputs["sequences"].copy()
    sequences["labels"] = sequences["labels"].map(lambda labels: list(reversed(labels)))
    assert sources_of(inputs, sequences).digest("Home1") == sources_of(inputs).digest("Home1")
    assert np.all(sequences["labels"].map(len) == 2)  # the reversal changed every row's order
