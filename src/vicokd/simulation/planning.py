"""A simulated home's sequences and labels as ingestion will read them, from the simulator's scripts
alone (no video rendered): what a run's splits are planned from before it is made
(tests/simulation/test_default_size.py, benchmarks/run_budget.py)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from vicokd.data.annotations import read_home
from vicokd.data.description import DatasetDescription
from vicokd.simulation.generate import (
    SimulationSettings,
    annotation_split_rng,
    make_scripts,
    sequence_urls,
)
from vicokd.simulation.writer import annotation_record, write_annotations


def planned_sequences(folder: Path, home: str, sequences: int, settings: SimulationSettings,
                      seed: int, dataset: DatasetDescription) -> pd.DataFrame:
    """``sequence_id, home, labels`` of the home's first ``sequences`` simulated sequences, in the
    order ingestion reads them: their annotation files are written to ``folder/<home>`` (which must
    not exist) and read back with ingestion's reader."""
    (folder / home).mkdir(parents=True)
    records = [annotation_record(sequence_urls(i, settings, dataset.views), script.tricks)
               for i, script in enumerate(make_scripts(home, settings, seed, sequences))]
    write_annotations(folder / home, home, records, annotation_split_rng(home, seed))
    return pd.DataFrame([{"sequence_id": s.sequence_id, "home": home, "labels": list(s.labels)}
                         for s in read_home(folder, home, dataset).sequences])
