"""The default run's size keeps its promise on validation: every class is positive in at least 3
validation sequences of each evaluated home (docs/simulation.md, "The default run's size").

Only the annotation files are written (the simulator's scripts, no video); the sequences are read
back with the ingestion's reader and split by the project's stratification, as a default run does.
"""
from __future__ import annotations

import pandas as pd

from project_parameters import load_parameters
from vicokd.data.description import DatasetDescription
from vicokd.data.splitting import split_class_counts, split_sequences
from vicokd.simulation.generate import SimulationParameters
from vicokd.simulation.planning import planned_sequences

MIN_VALIDATION_POSITIVES = 3


def test_every_class_has_three_positive_validation_sequences_per_home(tmp_path):
    params = load_parameters("base")
    settings = SimulationParameters.model_validate(params["simulation"]).settings
    seed, homes = params["seed"], params["ingestion"]["homes"]
    dataset = DatasetDescription.model_validate(params["dataset"])
    sequences = pd.concat([planned_sequences(tmp_path, home, settings.sequences_per_home, settings,
                                             seed, dataset) for home in homes], ignore_index=True)
    assert sequences.groupby("home").size().to_dict() == {h: settings.sequences_per_home for h in homes}
    strat = params["stratification"]
    splits = split_sequences(sequences, strat["test_size"], strat["val_size"], seed,
                             use_dataset_splits=False, classes=dataset.classes)
    counts = split_class_counts(sequences, splits, dataset.classes)
    for home in homes:
        positives = counts[(counts["home"] == home) & (counts["split"] == "val")].iloc[0]
        assert min(positives[list(dataset.classes)]) >= MIN_VALIDATION_POSITIVES, (home, positives)
