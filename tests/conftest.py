"""Fixtures shared by every test folder, and the test session's use of the cores.

With ``pytest -n 2`` (pytest-xdist, ``make test``) each worker process is pinned to one core of its
own and runs single-threaded, so the project's stages size themselves to that one core
(:func:`vicokd.processes.usable_cores`) and the suite never runs more threads than cores. Tests
that share a session fixture built once (a trained project) run in the same worker
(``--dist loadgroup``; pytest-xdist 3.8 marks a group in the node id, which pytest 9.2 keeps
elsewhere: ``pyproject.toml`` holds pytest below 9.2).
"""
import os

import pytest
import torch

from project_parameters import load_parameters
from vicokd.processes import limit_threads

#: Session fixtures expensive enough that their tests share one worker (built once).
SHARED_PROJECTS = ("trained_project", "recorded")
#: The longest test (two full test-environment runs, then two more): it starts first, so that the
#: other workers share out the rest meanwhile.
LONGEST = "tests/pipelines/test_reproducibility.py"


def pytest_configure(config):
    _first_backward()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        return
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[int(worker.removeprefix("gw")) % len(cores)]})
    limit_threads(1)


def _first_backward() -> None:
    """One backward before any test. Autograd starts its device threads at a process's first
    backward, one per device registered then, and marks children forked after that as unable to run
    backward; a CPU process has none, unless torch.export ran before (it registers one). The tests
    that fork a distributed job (tests/training/test_distributed.py) then pass in any order."""
    torch.ones(1, requires_grad=True).sum().backward()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items):
    """Each shared project's tests in one group; the longest test first, the trained project's
    group (the longest group) second, the rest in collection order: the first two go to two
    workers (``make test`` keeps this order: ``--no-loadscope-reorder``)."""
    def rank(item) -> int:
        if item.nodeid.startswith(LONGEST):
            return 0
        group = item.get_closest_marker("xdist_group")
        return 1 if group is not None and group.args == (SHARED_PROJECTS[0],) else 2

    for item in items:
        shared = [name for name in SHARED_PROJECTS if name in item.fixturenames]
        if shared:
            item.add_marker(pytest.mark.xdist_group(shared[0]))
    items.sort(key=rank)


@pytest.fixture
def two_cores(monkeypatch):
    """Two usable cores, whatever this test process is pinned to (under ``make test``: one), for
    the tests of pools of two worker processes: the pools are sized from these cores."""
    monkeypatch.setattr("vicokd.processes.usable_cores", lambda: 2)


@pytest.fixture
def parameters_of():
    """Loader of an environment's parameters: ``parameters_of("paper")["model"]``."""
    return load_parameters
