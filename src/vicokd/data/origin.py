"""Where a dataset comes from: the simulator's folders carry a marker, real recordings do not.

Simulated and real datasets live in separate folders (conf/base reads the simulated demo from
``data/01_raw/simulated``, conf/paper the recordings from ``data/01_raw/multisensor_home``), and a
run refuses a folder of the other origin, so a real run never takes simulated homes for real ones
(their homes have the same names) and the demo never writes into a folder of recordings.
"""
from __future__ import annotations

from pathlib import Path

from vicokd.data.description import DatasetMismatchError

#: The file the simulator writes at the top of every dataset it makes (settings, homes, files).
SIMULATION_MARKER = ".vicokd-simulation.json"


class DatasetOriginError(DatasetMismatchError):
    """The dataset folder is missing, or of the other origin than ``simulation.enabled`` says."""


def is_simulated(root: str | Path) -> bool:
    """Whether ``root`` holds a dataset the simulator wrote (its marker)."""
    return (Path(root) / SIMULATION_MARKER).is_file()


def check_dataset_origin(root: str | Path, simulated: bool) -> None:
    """Raise DatasetOriginError unless ``root`` exists and is simulated exactly when ``simulated``
    (``simulation.enabled``) says so."""
    root = Path(root)
    if simulated and not root.is_dir():
        raise DatasetOriginError(
            f"{root}: no simulated dataset here, and simulation.enabled is true",
            "Run the simulation first (`kedro run`, or `kedro run --pipelines simulation`), which "
            "writes it there.")
    if not root.is_dir():
        raise DatasetOriginError(
            f"{root}: the dataset folder does not exist (simulation.enabled is false: real "
            "recordings are read from it)",
            "Put the recordings there, one folder per home (docs/data.md), or point "
            "ingestion.dataset_root at them.")
    if simulated and not is_simulated(root):
        raise DatasetOriginError(
            f"{root} holds no {SIMULATION_MARKER}: the simulator did not write it, but "
            "simulation.enabled is true",
            "To read it as real recordings set simulation.enabled: false; to use the simulated "
            "dataset leave ingestion.dataset_root to its default (a folder of its own).")
    if not simulated and is_simulated(root):
        raise DatasetOriginError(
            f"{root} holds a simulated dataset ({SIMULATION_MARKER}), but simulation.enabled is "
            "false: a real run never reads simulated recordings",
            "Point ingestion.dataset_root at the real recordings (conf/paper: "
            "data/01_raw/multisensor_home), or set simulation.enabled: true to use the simulated "
            "dataset.")
