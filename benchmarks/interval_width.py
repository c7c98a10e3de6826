"""How the median 95 % half-width of Table 1's Δ(method − plain student) shrinks with test
sequences and seeds, on the predictions of a finished run (docs/simulation.md, "The default run's
size"): the sizing of the default run was chosen from these figures.

    python benchmarks/interval_width.py [data/07_model_output/predictions] [--replicates 1000]

Drops test sequences (75 % and 50 %, several random draws) or seeds (every subset of 2 and 1) from
the run's sequence-level test predictions, recomputes the project's two-level paired bootstrap
(:mod:`vicokd.reporting.intervals`) each time and prints the median half-width over the rows of
Table 1 present on disk. Then fits hw² = (k−1)/k²·(M + I/n) + (S + I/k)/n (n: test sequences
relative to the run's, k: seeds) and prints its prediction for ``--predict`` test-sequence factors
and seed counts, with the seeds' spread M kept and with M shrinking as 1/n.
"""
from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from vicokd.reporting import intervals

METHODS = ("logitkd", "modalkd", "dualkd", "cokd", "vicokd_paper", "vicokd")
BASELINE, SUPERVISIONS = "student", ("V_F", "V_S")


def load(root: Path) -> dict[str, pd.DataFrame]:
    """Sequence-level test rows of the baseline and each method, per (run, supervision)."""
    tables = {}
    for run in (BASELINE, *METHODS):
        for supervision in SUPERVISIONS:
            files = sorted((root / run / supervision).glob("*/*.parquet"))
            if files:
                table = pd.concat([pd.read_parquet(f) for f in files])
                tables[f"{run}_{supervision}"] = table[(table["split"] == "test")
                                                       & (table["level"] == "sequence")]
    return tables


def median_half_width(tables: dict[str, pd.DataFrame], replicates: int, seed: int = 0) -> float:
    """Median half-width of Δ(method − baseline) over the (method, supervision, home) rows."""
    found, _ = intervals.bootstrap(tables, ["sequence"], replicates, 0.95, seed)
    backbone = next(iter(tables.values()))["backbone"].iloc[0]
    widths = []
    for supervision, method in itertools.product(SUPERVISIONS, METHODS):
        for home in found.sequences:
            estimate = found.difference(intervals.Model(backbone, method, supervision),
                                        intervals.Model(backbone, BASELINE, supervision), home,
                                        "sequence")
            widths.append((estimate.high - estimate.low) / 2)
    return float(np.nanmedian(widths))


def keep(tables: dict[str, pd.DataFrame], sequences: set[str] | None = None,
         seeds: tuple[int, ...] | None = None) -> dict[str, pd.DataFrame]:
    """``tables`` restricted to ``sequences`` and ``seeds`` (None: all)."""
    kept = {}
    for name, table in tables.items():
        if sequences is not None:
            table = table[table["sequence_id"].isin(sequences)]
        if seeds is not None:
            table = table[table["seed"].isin(seeds)]
        kept[name] = table
    return kept


def features(n: float, k: int) -> list[float]:
    """The model's terms in M, I, S (see the module docstring)."""
    return [(k - 1) / k**2, (k - 1) / (k**2 * n) + 1 / (k * n), 1 / n]


def fit(observed: list[tuple[float, int, float]]) -> np.ndarray:
    """``(M, I, S)`` by least squares on hw² from ``(test-sequence factor, seeds, half-width)``."""
    x = np.array([features(n, k) for n, k, _ in observed])
    return np.linalg.lstsq(x, np.array([w**2 for *_, w in observed]), rcond=None)[0]


def predict(coef: np.ndarray, n: float, k: int, shrink: bool = False) -> float:
    """The model's half-width at ``n``× the test sequences and ``k`` seeds; ``shrink``: the seeds'
    spread M divided by ``n`` (models trained on ``n``× the data)."""
    m, i, s = coef
    return float(np.sqrt(np.dot(features(n, k), [m / n if shrink else m, i, s])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("predictions", nargs="?", default="data/07_model_output/predictions", type=Path)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=6, help="random draws per test-sequence share")
    parser.add_argument("--predict", nargs="+", default=["2.85:3", "2.85:6", "2.85:8"],
                        help="test-sequence factor:seeds pairs to predict")
    parser.add_argument("--seed-counts", nargs="+", type=int, default=None,
                        help="numbers of seeds to keep (default: every number from all down to 1)")
    parser.add_argument("--subsets", type=int, default=None,
                        help="at most this many random seed subsets per number of seeds (default: all)")
    args = parser.parse_args()
    tables = load(args.predictions)
    baseline = tables[f"{BASELINE}_{SUPERVISIONS[0]}"]
    ids = {home: sorted(rows["sequence_id"].unique()) for home, rows in baseline.groupby("home")}
    seeds = tuple(sorted(baseline["seed"].unique()))
    rng = np.random.default_rng(1)
    observed = []  # (test-sequence factor, seeds, median half-width)
    counts = args.seed_counts or range(len(seeds), 0, -1)
    for share in (1.0, 0.75, 0.5):
        for k in counts:
            subsets = list(itertools.combinations(seeds, k))
            if args.subsets is not None and len(subsets) > args.subsets:
                subsets = [subsets[i] for i in sorted(rng.choice(len(subsets), args.subsets,
                                                                 replace=False))]
            draws = 1 if share == 1.0 else max(1, args.draws // len(subsets))
            medians = []
            for subset, draw in itertools.product(subsets, range(draws)):
                chosen = None if share == 1.0 else {
                    s for home_ids in ids.values()
                    for s in rng.choice(home_ids, round(share * len(home_ids)), replace=False)}
                medians.append(median_half_width(keep(tables, chosen, subset), args.replicates, draw))
            observed.append((share, k, float(np.mean(medians))))
            print(f"test sequences {share:4.0%}, seeds {k}: median half-width {observed[-1][2]:.2f} "
                  f"(mean of {len(medians)})", flush=True)
    coef = fit(observed)
    miss = max(abs(predict(coef, n, k) - w) for n, k, w in observed)
    print(f"fit: M {coef[0]:.1f}, I {coef[1]:.1f}, S {coef[2]:.1f}; largest miss {miss:.2f} points")
    for spec in args.predict:
        n, k = float(spec.split(":")[0]), int(spec.split(":")[1])
        print(f"{n:.2f}x the test sequences, {k} seeds: {predict(coef, n, k):.2f} (M kept), "
              f"{predict(coef, n, k, shrink=True):.2f} (M / n)")


if __name__ == "__main__":
    main()
