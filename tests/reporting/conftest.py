"""Hand-made prediction tables in the training format, for the reporting tests."""
import zlib

import numpy as np
import pandas as pd
import pytest

from project_parameters import multisensor_home

CLASSES = multisensor_home().classes

LABELS = {"teacher": "Teacher", "teacher_vc": "Teacher + VC", "student": "Student", "vicokd": "ViCoKD",
          "no_fd": "w/o FD", "no_ld": "w/o LD"}
GROUPS = {"teacher": "teacher", "teacher_vc": "teacher", "student": "method", "vicokd": "method",
          "no_fd": "ablation", "no_ld": "ablation"}
BASES = {"teacher_vc": "teacher", "no_fd": "vicokd", "no_ld": "vicokd"}


def _make_predictions(
    method: str, supervision: str, home: str, seed: int = 0, backbone: str = "multitsf",
    skill: float = 1.0, n_sequences: int = 4, n_frames: int = 10, splits=("test", "val"),
) -> pd.DataFrame:
    """A prediction table of one model: scores = skill · targets + noise, frame and sequence rows."""
    rng = np.random.default_rng(zlib.crc32(repr((method, supervision, home, seed, backbone)).encode()))
    rows = []
    for split in splits:
        for s in range(n_sequences):
            frame_targets = rng.random((n_frames, len(CLASSES))) < 0.3
            sequence_target = frame_targets.any(axis=0)
            blocks = [("frame", np.arange(n_frames), frame_targets),
                      ("sequence", np.array([-1]), sequence_target[None])]
            for level, index, targets in blocks:
                scores = 1 / (1 + np.exp(-(skill * (2 * targets - 1) + rng.normal(0, 1.5, targets.shape))))
                for i, t, p in zip(index, targets, scores):
                    row = {"run": method, "label": LABELS[method], "group": GROUPS[method],
                           "base": BASES.get(method), "teacher": None if method == "teacher" else "teacher",
                           "model_version": f"{method}-{supervision}-{home}-{seed}",
                           "supervision": supervision, "backbone": backbone, "seed": seed, "home": home,
                           "split": split,
                           "sequence_id": f"{home}/01/{s:02d}-Part1", "level": level, "frame_index": int(i)}
                    row.update({f"score.{c}": float(v) for c, v in zip(CLASSES, p)})
                    row.update({f"target.{c}": int(v) for c, v in zip(CLASSES, t)})
                    rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture
def make_predictions():
    """The factory of hand-made prediction tables."""
    return _make_predictions


@pytest.fixture
def predictions() -> dict[str, pd.DataFrame]:
    """Teacher, student, ViCoKD and one ablation on two homes, V_F and V_S, two seeds of ViCoKD V_F."""
    tables = {}
    for home in ("Home1", "Home2"):
        tables[f"teacher_{home}"] = _make_predictions("teacher", "AV_F", home, skill=3.0)
        for supervision in ("V_F", "V_S"):
            for method, skill in (("student", 1.0), ("vicokd", 2.0), ("no_fd", 1.5)):
                tables[f"{method}_{supervision}_{home}"] = _make_predictions(method, supervision, home, skill=skill)
        tables[f"vicokd_V_F_{home}_seed1"] = _make_predictions("vicokd", "V_F", home, seed=1, skill=2.0)
    return tables
