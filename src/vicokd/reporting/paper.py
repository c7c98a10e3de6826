"""The paper's reported figures: the one source of every comparison with the paper (the claims
table, ``benchmarks/grid.py``)."""
from __future__ import annotations

from importlib.resources import files

import pandas as pd

#: ``home, backbone, method, supervision, map``: mAP (%) of the paper's Table 1 and ablation table;
#: ``method`` is the run's name in the run table.
PAPER_RESULTS = files("vicokd.reporting") / "paper_results.csv"


def paper_results() -> pd.DataFrame:
    """The paper's figures, one row per (home, backbone, run, supervision)."""
    with PAPER_RESULTS.open() as stream:
        return pd.read_csv(stream, comment="#")
