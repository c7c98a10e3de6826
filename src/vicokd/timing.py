"""Where a run's time goes: seconds and items per stage, as a table and as markdown.

The stages are those of docs/performance.md's stage table: simulation, ingestion, detector training,
person scoring, pretraining, features, training, reporting. A node belongs to the stage of the
pipeline that holds it (stratification counts to ingestion, the masking nodes after the detector to
person scoring); its time runs from the first load of its inputs to the last save of its outputs, so
work done while saving (the feature cache embeds as it writes) counts too. ``total`` is the whole
run, Kedro's start of the pipeline to its end.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

STAGES = ("simulation", "ingestion", "detector training", "person scoring", "pretraining",
          "features", "training", "reporting")

#: The stage of each registered pipeline's nodes.
PIPELINE_STAGES = {"simulation": "simulation", "ingestion": "ingestion",
                   "stratification": "ingestion", "masking": "person scoring",
                   "pretraining": "pretraining", "features": "features", "training": "training",
                   "reporting": "reporting"}
#: Nodes whose stage is not their pipeline's.
NODE_STAGES = {"train_person_detector": "detector training"}

#: The row of the whole run.
TOTAL = "total"

Counter = Callable[[Mapping[str, Any]], int]


def _sequences_of_truth(outputs: Mapping[str, Any]) -> int:
    truth = outputs.get("person_truth")
    return int(truth["sequence_id"].nunique()) if truth is not None and len(truth) else 0


def _detector_sequences(outputs: Mapping[str, Any]) -> int:
    record = outputs.get("person_detector") or {}
    return int(record.get("train_sequences", 0)) + int(record.get("val_sequences", 0))


def _sequences_scored(outputs: Mapping[str, Any]) -> int:
    # sequences, not frames: the scores are computed while the store saves them (lazy loaders)
    return len(outputs.get("person_confidence") or {})


def _encoders_made(outputs: Mapping[str, Any]) -> int:
    return sum(bool(e.get("made_here")) for e in (outputs.get("encoders") or {}).values())


def _sequences_embedded(outputs: Mapping[str, Any]) -> int:
    return max((len(outputs[name]) for name in ("visual_features", "audio_features")
                if name in outputs), default=0)


def _models_trained(outputs: Mapping[str, Any]) -> int:
    return sum(len(value) for name, value in outputs.items() if "_model_" in name)


#: What each stage counts as one item (its unit), read from its nodes' outputs.
ITEMS: dict[str, tuple[str, Counter]] = {
    "simulation": ("sequences", _sequences_of_truth),
    "ingestion": ("sequences", lambda outputs: len(outputs.get("sequences", ()))),
    "detector training": ("sequences", _detector_sequences),
    "person scoring": ("sequences", _sequences_scored),
    "pretraining": ("encoders", _encoders_made),
    "features": ("sequences", _sequences_embedded),
    "training": ("models", _models_trained),
    "reporting": ("files", len),
}


def stage_of(node_name: str, pipelines: Mapping[str, Any]) -> str:
    """The stage of the node named ``node_name`` among the registered ``pipelines`` (by name):
    :data:`NODE_STAGES`, else its pipeline's stage, else the name of the first pipeline holding it
    (e.g. ``inference``), else ``other``."""
    if node_name in NODE_STAGES:
        return NODE_STAGES[node_name]
    holders = [name for name, pipeline in pipelines.items()
               if name != "__default__" and node_name in {n.name for n in pipeline.nodes}]
    for name in holders:
        if name in PIPELINE_STAGES:
            return PIPELINE_STAGES[name]
    return holders[0] if holders else "other"


def count_items(stage: str, outputs: Mapping[str, Any]) -> int:
    """The items a node of ``stage`` produced, from its ``outputs`` (dataset name -> data)."""
    return ITEMS[stage][1](outputs) if stage in ITEMS else len(outputs)


def timing_table(seconds: Mapping[str, float], items: Mapping[str, int],
                 total_seconds: float) -> pd.DataFrame:
    """Rows ``stage, seconds, items, unit, items_per_second`` in the stage table's order (then any
    other stage), and a ``total`` row for the whole run (its items empty)."""
    stages = [s for s in STAGES if s in seconds] + sorted(set(seconds) - set(STAGES))
    rows = [{"stage": stage, "seconds": round(seconds[stage], 2), "items": items.get(stage, 0),
             "unit": ITEMS[stage][0] if stage in ITEMS else "outputs",
             "items_per_second": (round(items.get(stage, 0) / seconds[stage], 3)
                                  if seconds[stage] > 0 else np.nan)}
            for stage in stages]
    rows.append({"stage": TOTAL, "seconds": round(total_seconds, 2), "items": pd.NA, "unit": "",
                 "items_per_second": np.nan})
    return pd.DataFrame(rows).astype({"items": "Int64"})


def _figure(value: float) -> str:
    """Three significant digits, without an exponent."""
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def timing_sentence(table: pd.DataFrame) -> str:
    """``run_timing.csv`` in one line for ``summary.md`` (which stays short): each stage's seconds,
    share of the run and items per second, then the total."""
    total = float(table.loc[table["stage"] == TOTAL, "seconds"].iloc[0])
    parts = []
    for row in table[table["stage"] != TOTAL].itertuples():
        share = f"{100 * row.seconds / total:.0f} %, " if total > 0 else ""
        rate = "" if pd.isna(row.items_per_second) else f"{_figure(row.items_per_second)} {row.unit}/s"
        parts.append(f"{row.stage} {row.seconds:.0f} s ({share}{rate})")
    return "; ".join(parts) + f"; total {total:.0f} s.\n"
