"""Nodes of the simulation pipeline: thin wrappers around vicokd.simulation."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from vicokd.data.description import DatasetDescription
from vicokd.data.ingest import with_extra_homes
from vicokd.simulation.contact_sheet import contact_sheet, message_figure, pick_sequence
from vicokd.simulation.generate import (
    SimulationParameters,
    check_dataset_description,
    check_real_dataset,
    simulate_dataset,
)
from vicokd.simulation.truth import empty_truth, view_overlap


def simulate_recordings(
    simulation: SimulationParameters, dataset_root: str, homes: list[str], seed: int,
    dataset: DatasetDescription,
) -> tuple[dict, pd.DataFrame]:
    """Write (or reuse, or extend) the synthetic dataset under ``dataset_root``; with
    ``simulation.enabled: false`` only check that the real dataset's home folders exist.

    Simulated: ``homes`` (ingestion.homes) and ``simulation.extra_homes`` (homes for pretraining only,
    e.g. Home3), refused unless ``dataset`` describes what the simulator writes (MultiSensor-Home's
    classes and views). A dataset of the same settings that holds more homes serves this run as it
    is; one that lacks some of them gets only those added (vicokd.simulation.generate). Returns the
    recordings manifest (``homes``: this run's homes, all in the dataset folder) and the person
    truth table of those homes (empty for real data).
    """
    manifest = {"dataset_root": dataset_root, "homes": homes, "seed": seed}
    if not simulation.enabled:
        check_real_dataset(Path(dataset_root), homes)
        return {**manifest, "simulated": False, "settings": None}, empty_truth()
    simulated = with_extra_homes(homes, simulation.extra_homes)
    check_dataset_description(dataset, simulated)
    truth = simulate_dataset(Path(dataset_root), simulated, simulation.settings, seed,
                             overwrite=simulation.overwrite, workers=simulation.workers,
                             extra_homes=[home for home in simulated if home not in homes])
    return ({**manifest, "homes": simulated, "simulated": True,
             "settings": simulation.fingerprint_fields()}, truth)


def measure_view_overlap(person_truth: pd.DataFrame) -> dict:
    """Per home, the share of person-frames seen by two or more views (empty for real data)."""
    return view_overlap(person_truth)


def draw_contact_sheet(recordings_manifest: dict, person_truth: pd.DataFrame,
                       simulation: SimulationParameters) -> Figure:
    """Views × time frames of one simulated sequence, decoded from its mp4 files, with true boxes."""
    if not recordings_manifest["simulated"] or person_truth.empty:
        return message_figure("Real dataset: no simulated sequence to show")
    sequence_id = simulation.contact_sheet_sequence or pick_sequence(person_truth)
    return contact_sheet(Path(recordings_manifest["dataset_root"]), person_truth, sequence_id,
                         simulation.contact_sheet_columns)
