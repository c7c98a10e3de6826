"""A project copy whose data comes from real mp4 recordings: the test environment's simulated homes,
ingested and split, masked with the simulator's truth (no detector to train), the encoders
pretrained and cached as the default flow does, and the plain student trained (V_F and V_S, one
epoch). Built once per test session and shared by
the inference and evaluation tests; read-only for them (copy it to change anything)."""
from __future__ import annotations

from pathlib import Path

import pytest
from synthetic_project import Project

#: Where the simulated dataset lies inside the project (conf/base: ingestion.dataset_root).
DATASET_ROOT = "01_raw/multisensor_home"
#: The run trained in it.
RUN = "student"
#: The parameters of every session that builds it.
PARAMETERS = {"masking": {"source": "truth"}}

_built: dict[Path, Project] = {}


def recorded_project(factory: pytest.TempPathFactory) -> Project:
    """The project of this test session (module docstring), built on first use."""
    session = factory.getbasetemp()
    if session not in _built:
        project = Project.copy_of_repository(factory.mktemp("recorded_project"))
        project.run(["simulation", "ingestion", "stratification", "masking", "pretraining",
                     "features"], PARAMETERS)
        project.run(["training"], PARAMETERS, namespaces=[RUN])
        _built[session] = project
    return _built[session]
