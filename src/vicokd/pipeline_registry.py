"""Project pipelines: the data stages, the encoders and their feature cache, the training template
instantiated for every run of the run table, reporting, and ``__default__`` = the whole flow.

``teacher`` and ``distill`` are the teacher runs and the student runs of the one ``training``
pipeline. The run table is read from the project's configuration (``conf/base``, ``conf/local`` and
the environment named by ``KEDRO_ENV``); an environment given with ``--env`` changes the runs'
settings, not which runs exist.
"""
import os

from kedro.pipeline import Pipeline

from vicokd.configuration import RUNS, run_table_parameters
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
from vicokd.training.run_table import RunSpec


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline of the project, by name."""
    parameters = run_table_parameters(os.environ.get("KEDRO_ENV"))
    runs = {name: RunSpec.model_validate(row) for name, row in parameters[RUNS].items()}
    trained = training.create_pipeline(runs, parameters["baseline"])
    pipelines = {
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
    flow = ("simulation", "ingestion", "stratification", "masking", "pretraining", "features",
            "training", "reporting")
    pipelines["__default__"] = sum((pipelines[name] for name in flow), Pipeline([]))
    return pipelines
