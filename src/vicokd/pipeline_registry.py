"""Project pipelines: the data stages, the encoders and their feature cache, the training template
instantiated for every run of the run table, reporting, and ``__default__`` = the whole flow.

``teacher`` and ``distill`` are the teacher runs and the student runs of the one ``training``
pipeline. The run table comes from the parameters of the run itself: those of the session's context
(its environment, ``--env``, and ``--params``), so a row added in ``conf/<env>/`` or on the command
line is a namespace of that run. Outside a session (``kedro registry list``) the pipelines are those
of the environment named by ``KEDRO_ENV`` (else ``local``).
"""
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro.pipeline import Pipeline
from kedro.utils import find_kedro_project

from vicokd.configuration import PARAMETERS, RUNS, ProjectConfigLoader, context_parameters
from vicokd.pipelines import (
    evaluation,
    features,
    inference,
    ingestion,
    masking,
    pretraining,
    reporting,
    simulation,
    stratification,
    training,
)
from vicokd.settings import CONFIG_LOADER_ARGS

#: The stages of ``__default__``, in the order they run.
FLOW = ("simulation", "ingestion", "stratification", "masking", "pretraining", "features",
        "training", "reporting")


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline of the project, by name, built from the parameters of the current run."""
    project = find_kedro_project(Path.cwd()) or Path.cwd()
    parameters = context_parameters(project)
    if parameters is None:  # no session: the environment's files ("conf" is Kedro's CONF_SOURCE)
        loader = ProjectConfigLoader(str(project / "conf"), env=os.environ.get("KEDRO_ENV"),
                                     **CONFIG_LOADER_ARGS)
        parameters = loader[PARAMETERS]
    return create_pipelines(parameters)


def create_pipelines(parameters: Mapping[str, Any]) -> dict[str, Pipeline]:
    """Every pipeline of the project for ``parameters`` (as :class:`ProjectConfigLoader` reads
    them: the run table validated)."""
    runs = parameters[RUNS]
    trained = training.create_pipeline(runs, parameters["baseline"])
    registered = {
        "simulation": simulation.create_pipeline(),
        "ingestion": ingestion.create_pipeline(),
        "stratification": stratification.create_pipeline(),
        "masking": masking.create_pipeline(),
        "pretraining": pretraining.create_pipeline(),
        "features": features.create_pipeline(),
        "training": trained,
        "teacher": trained.only_nodes_with_tags("teacher"),
        "distill": trained.only_nodes_with_tags("distill"),
        "reporting": reporting.create_pipeline(runs, parameters["reporting"]["attention"]["models"]),
        "inference": inference.create_pipeline(runs),
        "evaluation": evaluation.create_pipeline(runs),
    }
    registered["__default__"] = sum((registered[name] for name in FLOW), Pipeline([]))
    return registered
