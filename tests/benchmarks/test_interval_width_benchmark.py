"""benchmarks/interval_width.py: the median half-width of Table 1's Δ and the variance model."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vicokd.data.annotations import CLASSES


@pytest.fixture
def width(import_benchmark):
    return import_benchmark("interval_width")


def sequence_rows(run: str, supervision: str, seed: int, scores: np.ndarray,
                  targets: np.ndarray) -> pd.DataFrame:
    """Sequence-level test rows of one model in Home1, one per row of ``scores``/``targets``."""
    table = pd.DataFrame({"backbone": "multitsf", "run": run, "supervision": supervision,
                          "home": "Home1", "seed": seed, "level": "sequence", "split": "test",
                          "sequence_id": [f"Home1/01/{i:02d}-Part1" for i in range(len(scores))]})
    for c, name in enumerate(CLASSES):
        table[f"score.{name}"], table[f"target.{name}"] = scores[:, c], targets[:, c]
    return table


def tables(shift: float) -> dict[str, pd.DataFrame]:
    """Student and every method at both supervisions, two seeds; a method's scores are the
    student's plus ``shift`` times noise."""
    rng = np.random.default_rng(0)
    targets = (rng.random((12, len(CLASSES))) < 0.4).astype(int)
    out: dict[str, list[pd.DataFrame]] = {}
    for seed in (0, 1):
        student = rng.random(targets.shape)
        for run in ("student", *("logitkd", "modalkd", "dualkd", "cokd", "vicokd")):
            scores = student + (shift * rng.random(targets.shape) if run != "student" else 0.0)
            for supervision in ("V_F", "V_S"):
                out.setdefault(f"{run}_{supervision}", []).append(
                    sequence_rows(run, supervision, seed, scores, targets))
    return {name: pd.concat(parts, ignore_index=True) for name, parts in out.items()}


def test_a_method_scoring_as_the_student_has_a_zero_width_interval(width):
    assert width.median_half_width(tables(shift=0.0), replicates=200) == 0.0


def test_a_method_scoring_otherwise_has_a_positive_width(width):
    assert width.median_half_width(tables(shift=1.0), replicates=200) > 0.0


def test_keep_restricts_sequences_and_seeds(width):
    kept = width.keep(tables(shift=0.0), {"Home1/01/00-Part1", "Home1/01/03-Part1"}, (1,))
    assert all(set(t["sequence_id"]) == {"Home1/01/00-Part1", "Home1/01/03-Part1"}
               and set(t["seed"]) == {1} for t in kept.values())


def test_the_fit_recovers_the_variance_components_it_was_made_from(width):
    m, i, s = 30.0, 20.0, 5.0
    observed = [(n, k, float(np.sqrt((k - 1) / k**2 * (m + i / n) + (s + i / k) / n)))
                for n in (1.0, 0.75, 0.5) for k in (1, 2, 3)]
    assert width.fit(observed) == pytest.approx([m, i, s])
    # 8 seeds, 3x the test sequences: hw² = 7/64·(30 + 20/3) + (5 + 20/8)/3, and with M / 3
    assert width.predict(np.array([m, i, s]), 3.0, 8) == pytest.approx(
        np.sqrt(7 / 64 * (30 + 20 / 3) + (5 + 20 / 8) / 3))
    assert width.predict(np.array([m, i, s]), 3.0, 8, shrink=True) == pytest.approx(
        np.sqrt(7 / 64 * (10 + 20 / 3) + (5 + 20 / 8) / 3))
