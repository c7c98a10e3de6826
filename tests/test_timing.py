"""The run's time per stage: vicokd.timing (tables) and the RunTiming hook (vicokd.hooks)."""
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import AbstractDataset, DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import CSVDataset
from kedro_datasets.text import TextDataset

from vicokd.hooks import SECTION, RunTiming, ThreadsPerCore, with_timing_section
from vicokd.processes import THREAD_VARIABLES
from vicokd.timing import STAGES, count_items, stage_of, timing_sentence, timing_table


def test_timing_table_orders_the_stages_as_the_stage_table_and_adds_the_total():
    table = timing_table({"training": 100.0, "simulation": 20.0, "inference": 5.0},
                         {"training": 50, "simulation": 10}, total_seconds=130.0)
    assert list(table["stage"]) == ["simulation", "training", "inference", "total"]
    assert list(table["items_per_second"][:2]) == [0.5, 0.5]
    assert list(table["unit"][:2]) == ["sequences", "models"]
    assert table["seconds"].iloc[-1] == 130.0 and pd.isna(table["items"].iloc[-1])
    assert timing_sentence(table) == ("simulation 20 s (15 %, 0.5 sequences/s); training 100 s "
                                      "(77 %, 0.5 models/s); inference 5 s (4 %, 0 outputs/s); "
                                      "total 130 s.\n")
    fast = timing_table({"person scoring": 2.0}, {"person scoring": 2500}, total_seconds=2.0)
    assert timing_sentence(fast) == "person scoring 2 s (100 %, 1250 sequences/s); total 2 s.\n"


def test_items_are_counted_from_the_outputs_of_each_stage():
    confidence = {"a": np.zeros((5, 60)), "b": lambda: np.zeros((5, 40))}  # arrays or lazy loaders
    assert count_items("person scoring", {"person_confidence": confidence}) == 2
    assert count_items("training", {"vicokd_model_V_F": {"Home1/seed0": {}, "Home1/seed1": {}},
                                    "vicokd_history_V_F": {"Home1/seed0": None}}) == 2
    truth = pd.DataFrame({"sequence_id": ["s1", "s1", "s2"]})
    assert count_items("simulation", {"person_truth": truth, "recordings_manifest": {}}) == 2
    assert count_items("pretraining", {"encoders": {"visual": {"made_here": True},
                                                    "audio": {"made_here": False}}}) == 1


def test_a_node_gets_its_pipelines_stage_or_its_own():
    def f(x):
        return x

    pipelines = {"stratification": Pipeline([Node(f, "a", "b", name="split_by_home")]),
                 "masking": Pipeline([Node(f, "b", "c", name="train_person_detector"),
                                      Node(f, "c", "d", name="threshold_masks")]),
                 "inference": Pipeline([Node(f, "d", "e", name="predict_recordings")])}
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    assert stage_of("split_by_home", pipelines) == "ingestion"
    assert stage_of("train_person_detector", pipelines) == "detector training"
    assert stage_of("threshold_masks", pipelines) == "person scoring"
    assert stage_of("predict_recordings", pipelines) == "inference"
    assert stage_of("elsewhere", pipelines) == "other"


def test_the_timing_section_is_appended_once_and_then_replaced():
    summary = "# Summary\n\n## Results\n\ntable\n"
    once = with_timing_section(summary, "t1 1 s.\n")
    assert once.startswith(summary.rstrip("\n")) and once.count(SECTION) == 1 and "t1 1 s" in once
    assert len(once.splitlines()) == len(summary.splitlines()) + 4  # blank, heading, blank, line
    twice = with_timing_section(once + "\n## Links\n\nl\n", "t2 2 s.\n")
    assert twice.count(SECTION) == 1 and "t1 1 s" not in twice and "t2 2 s" in twice
    assert twice.endswith("## Links\n\nl\n")


class SlowSave(AbstractDataset):
    """A dataset whose save takes ``seconds`` (work done while saving, as the feature cache's)."""

    def __init__(self, seconds):
        self.seconds, self.data = seconds, None

    def load(self):
        return self.data

    def save(self, data):
        time.sleep(self.seconds)
        self.data = data

    def _describe(self):
        return {"seconds": self.seconds}


def test_the_hook_times_each_stage_saves_included_and_writes_the_table_and_summary(tmp_path):
    def simulate():
        return pd.DataFrame({"sequence_id": ["s1", "s2", "s2"]})

    def score(truth):
        return {"s1": np.zeros((5, 10))}

    def summarise(confidence):
        return "# Run summary\n"

    pipelines = {"simulation": Pipeline([Node(simulate, None, "person_truth", name="simulate")]),
                 "masking": Pipeline([Node(score, "person_truth", "person_confidence",
                                           name="score_person_confidence")]),
                 "reporting": Pipeline([Node(summarise, "person_confidence", "run_summary",
                                             name="write_summary")])}
    catalog = DataCatalog({
        "person_truth": MemoryDataset(), "person_confidence": SlowSave(0.3),
        "run_summary": TextDataset(filepath=str(tmp_path / "summary.md")),
        "run_timing": CSVDataset(filepath=str(tmp_path / "run_timing.csv"),
                                 save_args={"index": False}),
    })
    hook = RunTiming(pipelines)
    hooks = _create_hook_manager()
    hooks.register(hook)
    hook.before_pipeline_run()
    SequentialRunner().run(sum(pipelines.values(), Pipeline([])), catalog, hooks)
    hook.after_pipeline_run(catalog)

    table = pd.read_csv(tmp_path / "run_timing.csv")
    assert list(table["stage"]) == ["simulation", "person scoring", "reporting", "total"]
    rows = table.set_index("stage")
    assert rows.loc["simulation", "items"] == 2 and rows.loc["person scoring", "items"] == 1
    assert rows.loc["person scoring", "seconds"] >= 0.3  # its slow save counts to its stage
    assert rows.loc["total", "seconds"] >= rows.loc[["simulation", "person scoring"], "seconds"].sum()
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("# Run summary") and SECTION in summary
    assert "simulation 0 s (" in summary and "person scoring 0 s (" in summary


def test_every_node_starts_with_as_many_threads_as_usable_cores(monkeypatch):
    for variable in THREAD_VARIABLES:  # restored after the test
        monkeypatch.delenv(variable, raising=False)
    before = torch.get_num_threads()
    try:
        monkeypatch.setattr("vicokd.hooks.usable_cores", lambda: 1)
        torch.set_num_threads(2)
        ThreadsPerCore().before_node_run()
        assert torch.get_num_threads() == 1 and os.environ["OMP_NUM_THREADS"] == "1"
    finally:
        torch.set_num_threads(before)


def test_the_stages_are_the_performance_pages_stage_table_in_its_order():
    """Each row of docs/performance.md's ``| stage | time |`` table names one stage, or two joined by
    " / ", before its parenthesis or colon: together they are STAGES, in order."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "performance.md").read_text()
    table = page.split("| stage | time |\n|---|---:|\n", 1)[1].split("\n\n", 1)[0]
    named = [re.split(r" \(|:", part.strip())[0]
             for row in table.splitlines() for part in row.split("|")[1].split(" / ")]
    assert tuple(named) == STAGES
