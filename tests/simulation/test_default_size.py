"""The default run's size keeps its promise on validation: every class is positive in at least 3
validation sequences of each evaluated home (docs/simulation.md, "The default run's size").

Only the annotation files are written (the simulator's scripts, no video); the sequences are read
back with the ingestion's reader and split by the project's stratification, as a default run does.
"""
from __future__ import annotations

import pandas as pd

from project_parameters import load_parameters
from vicokd.data.annotations import CLASSES, read_home
from vicokd.data.splitting import split_sequences
from vicokd.simulation.generate import (
    SimulationSettings,
    annotation_split_rng,
    make_scripts,
    sequence_urls,
)
from vicokd.simulation.writer import annotation_record, write_annotations

MIN_VALIDATION_POSITIVES = 3


def test_every_class_has_three_positive_validation_sequences_per_home(tmp_path):
    params = load_parameters("base")
    settings = SimulationSettings.model_validate(
        {k: params["simulation"][k] for k in SimulationSettings.model_fields})
    seed, homes = params["seed"], params["ingestion"]["homes"]
    sequences = []
    for home in homes:
        (tmp_path / home).mkdir()
        records = [annotation_record(sequence_urls(i, settings), script.tricks)
                   for i, script in enumerate(make_scripts(home, settings, seed))]
        write_annotations(tmp_path / home, home, records, annotation_split_rng(home, seed))
        specs = read_home(tmp_path, home).sequences
        assert len(specs) == settings.sequences_per_home
        sequences += [{"sequence_id": s.sequence_id, "home": home, "labels": list(s.labels)}
                      for s in specs]
    strat = params["stratification"]
    splits = split_sequences(pd.DataFrame(sequences), strat["test_size"], strat["val_size"], seed,
                             use_dataset_splits=False)
    labels = dict(zip((s["sequence_id"] for s in sequences), (s["labels"] for s in sequences)))
    for home in homes:
        val = splits[(splits["home"] == home) & (splits["split"] == "val")]["sequence_id"]
        positives = {c: sum(c in labels[s] for s in val) for c in CLASSES}
        assert min(positives.values()) >= MIN_VALIDATION_POSITIVES, (home, positives)
