"""A project copy with the synthetic dataset, its teachers and students trained once per test session."""
import pytest
from synthetic_project import Project, as_ingested, synthetic_inputs


@pytest.fixture(scope="session")
def inputs():
    return synthetic_inputs()


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory, inputs) -> Project:
    """Encoders pretrained on the synthetic pretraining home, their feature cache, and the teachers
    and students of every run (test settings, one epoch) on the synthetic dataset; read-only for the
    tests that use it (copy it to change anything)."""
    project = Project.copy_of_repository(tmp_path_factory.mktemp("project"))
    project.save({**as_ingested(inputs), "mask_quality_table": "# Visibility mask quality\n\n| home | F1 |\n|---|---|\n| Home1 | 0.9 |\n",
                  "simulation_overlap": {"Home1": {"share_seen_by_2_or_more_views": 0.5},
                                         "Home2": {"share_seen_by_2_or_more_views": 0.9}}})
    project.run(["pretraining", "features", "teacher", "distill"])
    return project
