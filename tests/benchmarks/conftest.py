"""The scripts under benchmarks/ imported as modules, freshly, for their tests."""
from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from types import ModuleType

import pytest

from project_parameters import CONF

BENCHMARKS = CONF.parent / "benchmarks"


@pytest.fixture
def import_benchmark(monkeypatch) -> Callable[[str], ModuleType]:
    """``name -> module``: benchmarks/<name>.py imported anew (the folder on sys.path for the test)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))

    def load(name: str) -> ModuleType:
        monkeypatch.delitem(sys.modules, name, raising=False)
        return importlib.import_module(name)

    return load
