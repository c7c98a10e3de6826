"""A project copy with the synthetic dataset, its teachers and students trained once per test session."""
import pytest

from synthetic_project import Project, synthetic_inputs


@pytest.fixture(scope="session")
def inputs():
    return synthetic_inputs()


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory, inputs) -> Project:
    """Teachers and students of every run (test settings, one epoch) on the synthetic dataset;
    read-only for the tests that use it (copy it to change anything)."""
    project = Project.copy_of_repository(tmp_path_factory.mktemp("project"))
    project.save({**inputs, "mask_quality_table": "# Visibility mask quality\n\n| home | F1 |\n|---|---|\n| Home1 | 0.9 |\n",
                  "simulation_overlap": {"Home1": {"share_seen_by_2_or_more_views": 0.5},
                                         "Home2": {"share_seen_by_2_or_more_views": 0.9}}})
    project.run(["teacher"])
    project.run(["distill"])
    return project
