"""Acceptance: one's own recordings, with 3 cameras and 4 classes, from a CSV of segments through
ingestion, training and reporting, in one session of the test environment whose globals.yml names
the classes and views (and nothing else in the configuration)."""
import json

import numpy as np
import pandas as pd
from synthetic_project import Project

from data.fake_home import write_view
from vicokd.data.convert_csv import convert_segments
from vicokd.data.description import DatasetDescription

CLASSES = ["Cook", "Sit", "Sleep", "Wave"]
VIEWS, SEQUENCES, SECONDS, FPS = 3, 10, 4, 10
#: The nodes before reporting that a dataset of one's own needs here, with the teacher and the
#: plain student trained (masks and their report are given: a real dataset's come from a detector
#: checkpoint, which the test environment has not).
NODES = ["simulate_recordings", "measure_view_overlap", "ingest_recordings", "split_by_home",
         "count_classes_per_split", "pretrain_encoders", "cache_features", "teacher.train_AV_F",
         "student.train_V_F"]


def recordings(root) -> dict[str, list[str]]:
    """Home1: 10 sequences of 3 views (4 s at 10 fps); sequence i shows class i mod 4 in its first
    2 s and, when i is even, class i + 1 mod 4 in its last 2 s. Annotated through the converter;
    returns the labels of each sequence id."""
    rows, labels = ["recording,view_files,start,end,label"], {}
    for i in range(SEQUENCES):
        session, video = f"{i % 2 + 1:02d}", f"{i // 2:02d}"
        views = [f"Home1/{session}/{video}-View{v}-Part1.mp4" for v in range(1, VIEWS + 1)]
        for view, path in enumerate(views, 1):
            write_view(root / path, SECONDS * FPS, FPS, 40 * view + 10 * (i % 4))
        shown = [(CLASSES[i % 4], 0.0, 2.0)]
        if i % 2 == 0:
            shown.append((CLASSES[(i + 1) % 4], 2.0, 3.6))
        rows += [f"rec{i},{';'.join(views)},{start},{end},{name}" for name, start, end in shown]
        labels[f"Home1/{session}/{video}-Part1"] = sorted({name for name, _, _ in shown},
                                                          key=CLASSES.index)
    (root / "segments.csv").write_text("\n".join(rows) + "\n")
    mine = DatasetDescription(classes=CLASSES, views=VIEWS, sample_fps=2.5)
    convert_segments(root / "segments.csv", root, mine)
    return labels


def test_three_views_and_four_classes_through_ingestion_training_and_reporting(tmp_path):
    project = Project.copy_of_repository(tmp_path / "project")
    with (project.path / "conf" / "test" / "globals.yml").open("a") as globals_file:
        globals_file.write(f"classes: [{', '.join(CLASSES)}]\nviews: {VIEWS}\n")
    labels = recordings(tmp_path / "mine")
    frames = SECONDS * 5 // 2  # 2.5-FPS frames per sequence
    ones = {sequence_id: np.ones((VIEWS, frames), np.float32) for sequence_id in labels}
    project.save({"visibility_masks": {k: v.astype(np.uint8) for k, v in ones.items()},
                  "person_confidence": ones, "mask_quality_table": "# Visibility mask quality\n"})
    mine = {"simulation": {"enabled": False},
            "ingestion": {"dataset_root": str(tmp_path / "mine"), "homes": ["Home1"]}}
    project.run(["__default__"], mine, node_names=NODES)
    project.run(["reporting"], mine)  # every report (the untrained runs named as missing)

    with project.catalog() as catalog:
        sequences = catalog.load("sequences")
        stores = {name: catalog.load(name) for name in ("frames", "log_mels", "frame_labels")}
        teacher = catalog.load("teacher_model_AV_F")["Home1/seed0"]()
        predictions = catalog.load("teacher_predictions_AV_F")["Home1/seed0"]()
    assert dict(zip(sequences["sequence_id"], map(list, sequences["labels"]))) == labels
    first = sequences["sequence_id"].iloc[0]
    assert stores["frames"][first].shape == (VIEWS, frames, 32, 32, 3)  # conf/test image size
    assert stores["log_mels"][first].shape == (VIEWS, frames, 40, 128)
    assert stores["frame_labels"][first].shape == (frames, len(CLASSES))
    assert stores["frame_labels"]["Home1/01/00-Part1"][:, 0].tolist() == [1] * 6 + [0] * 4  # 0-2 s
    assert teacher["state_dict"]["backbone.frame_head.weight"].shape[0] == len(CLASSES)
    assert teacher["metadata"]["classes"] == CLASSES
    scores = [c for c in predictions.columns if c.startswith("score.")]
    assert scores == [f"score.{c}" for c in CLASSES]
    reports = project.data / "08_reporting"
    counts = pd.read_csv(reports / "split_class_counts.csv")
    assert list(counts.columns) == ["home", "split", "sequences", *CLASSES]
    assert counts.loc[counts["home"] == "all", "sequences"].sum() == SEQUENCES
    metrics = pd.read_csv(reports / "model_metrics.csv")
    assert [c for c in metrics.columns if c.startswith("ap.")] == [f"ap.{c}" for c in CLASSES]
    assert list(pd.read_csv(reports / "per_class_ap.csv").columns[-len(CLASSES):]) == CLASSES
    encoders = json.loads((project.data / "06_models" / "encoders.json").read_text())
    assert "the training split of Home1" in encoders["visual"]["starts_from"]
