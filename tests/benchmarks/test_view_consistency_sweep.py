"""benchmarks/view_consistency_sweep.py: the configurations it trains and its paired summary."""
from __future__ import annotations

import pandas as pd
import pytest

from project_parameters import load_parameters
from vicokd.training.run_table import RunSpec, resolve_run_table


def test_a_configuration_replaces_the_view_consistency_block_only(import_benchmark):
    sweep = import_benchmark("view_consistency_sweep")
    runs = resolve_run_table(load_parameters("base")["runs"])
    vicokd = RunSpec.model_validate(runs["vicokd"])
    block = {"weight": 3.0, **sweep.VARIANTS["sigmoid"]}
    changed = sweep.with_view_consistency(vicokd, block)
    assert changed.recipe.view_consistency.model_dump() == block
    assert changed.recipe.feature == vicokd.recipe.feature
    assert changed.recipe.logit == vicokd.recipe.logit
    assert sweep.VARIANTS["eq10"] == {key: value for key, value in
                                      RunSpec.model_validate(runs["vicokd_paper"]).recipe
                                      .view_consistency.model_dump().items()
                                      if key != "weight"}


def test_the_gain_is_paired_by_seed_over_homes_and_supervisions(import_benchmark):
    sweep = import_benchmark("view_consistency_sweep")
    rows = pd.DataFrame({
        "config": ["ref"] * 4 + ["new"] * 4,
        "seed": [0, 0, 1, 1] * 2,
        "home": ["Home1", "Home2"] * 4,
        "supervision": ["V_F"] * 8,
        "val": [60.0, 70.0, 50.0, 80.0, 62.0, 72.0, 51.0, 81.0],
    })
    gain = sweep.paired_gain(rows, "ref")
    # seed 0: (62 + 72)/2 - (60 + 70)/2 = 2; seed 1: (51 + 81)/2 - (50 + 80)/2 = 1
    assert gain.loc["new", "gain"] == pytest.approx(1.5)
    assert gain.loc["new", "gain_std"] == pytest.approx(0.5 ** 0.5)
    assert gain.loc["ref", "gain"] == 0.0
