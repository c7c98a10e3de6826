"""The claims table: each claim of the paper that a run can test, the paper's figure, ours with its
interval, and a verdict.

The claims come from the run table's groups and the ``baseline`` run (the plain student), never
from run names:

- the teacher the baseline is compared against beats the baseline (per home, per supervision);
- every other ``method`` row beats the baseline;
- a ``method`` row built on another method (its ``base``, not the baseline) beats that method
  (ViCoKD over CoKD), and its gain is larger in the first home than in each other home (homes are
  independent: their replicates are combined);
- every ``ablation`` row scores below the run it ablates;
- a ``teacher`` row built on another teacher beats it (view-aware consistency on the teacher).

Every difference is sequence-level mAP on the reported split, paired by seed, with the interval of
:mod:`vicokd.reporting.intervals`. The verdict compares the interval with the side of 0 the paper
is on (its figure's sign; the claim's own direction where the paper gives no figure for the run's
backbone): **agrees** (entirely on that side), **disagrees** (entirely on the other), **undecided**
(it contains 0), **missing** (a model of the claim is not on disk).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vicokd.reporting.intervals import Model, Replicates
from vicokd.training.run_table import RunSpec

AGREES, DISAGREES, UNDECIDED, MISSING = "agrees", "disagrees", "undecided", "missing"
VERDICTS: tuple[str, ...] = (AGREES, DISAGREES, UNDECIDED, MISSING)
#: The level every claim is tested at: the paper's metric.
LEVEL = "sequence"
COLUMNS = ["claim", "home", "supervision", "paper Δ", "ours Δ", "ours Δ low", "ours Δ high", "seeds",
           "verdict"]


@dataclass(frozen=True)
class Term:
    """``sign · (mAP(a) − mAP(b))`` in one home."""

    a: Model
    b: Model
    home: str
    sign: int = 1


@dataclass(frozen=True)
class Claim:
    """A statement ``Σ terms > 0`` (``direction`` +1) or ``< 0`` (−1)."""

    statement: str
    home: str
    supervision: str
    terms: tuple[Term, ...]
    direction: int = 1


def verdict(low: float, high: float, expected: int) -> str:
    """``agrees`` when ``[low, high]`` lies entirely on the ``expected`` side of 0 (+1: above,
    −1: below), ``disagrees`` when entirely on the other side, ``undecided`` when it contains 0,
    ``missing`` when the interval is NaN."""
    if np.isnan(low) or np.isnan(high):
        return MISSING
    if low > 0:
        return AGREES if expected > 0 else DISAGREES
    if high < 0:
        return AGREES if expected < 0 else DISAGREES
    return UNDECIDED


def derive_claims(runs: Mapping[str, RunSpec], baseline: str, homes: Sequence[str],
                  backbone: str) -> list[Claim]:
    """Every claim the run table can test (see the module docstring), in a fixed order.

    Args:
        runs: the resolved run table, in order.
        baseline: the plain student's run (the ``baseline`` parameter).
        homes: the evaluation homes (``ingestion.homes``), in order.
        backbone: the backbone the models were trained with.
    """
    def model(run: str, supervision: str) -> Model:
        return Model(backbone, run, supervision)

    def pairwise(statement: str, a: RunSpec, b: RunSpec, direction: int = 1,
                 pairs: Iterable[tuple[str, str]] | None = None) -> list[Claim]:
        """``a > b`` (or ``<``) per supervision and per home both are trained in."""
        pairs = pairs if pairs is not None else [(s, s) for s in a.supervisions if s in b.supervisions]
        shared = [h for h in a.trained_homes(homes) if h in b.trained_homes(homes)]
        return [Claim(statement, home, sb, (Term(model(a.name, sa), model(b.name, sb), home),), direction)
                for sa, sb in pairs for home in shared]

    claims: list[Claim] = []
    student = runs.get(baseline)
    methods = [run for run in runs.values() if run.group == "method" and run.name != baseline]
    if student is not None:
        teacher = runs.get(student.teacher) if student.teacher else None
        if teacher is not None:
            claims += pairwise(f"{teacher.label} > {student.label}", teacher, student,
                               pairs=[(t, s) for s in student.supervisions for t in teacher.supervisions])
        for method in methods:
            claims += pairwise(f"{method.label} > {student.label}", method, student)
    for method in methods:
        base = runs.get(method.base) if method.base else None
        if base is None or base.group != "method" or base.name == baseline:
            continue
        claims += pairwise(f"{method.label} > {base.label}", method, base)
        shared = [h for h in method.trained_homes(homes) if h in base.trained_homes(homes)]
        for other in shared[1:]:
            for supervision in (s for s in method.supervisions if s in base.supervisions):
                a, b = model(method.name, supervision), model(base.name, supervision)
                claims.append(Claim(f"{method.label} − {base.label}: {shared[0]} > {other}",
                                    f"{shared[0]} vs {other}", supervision,
                                    (Term(a, b, shared[0]), Term(a, b, other, -1))))
    for ablation in (run for run in runs.values() if run.group == "ablation"):
        base = runs.get(ablation.base) if ablation.base else None
        if base is not None:
            claims += pairwise(f"{ablation.label} < {base.label}", ablation, base, direction=-1)
    for variant in (run for run in runs.values() if run.group == "teacher"):
        base = runs.get(variant.base) if variant.base else None
        if base is not None and base.group == "teacher":
            claims += pairwise(f"{variant.label} > {base.label}", variant, base)
    return claims


def paper_difference(claim: Claim, paper: pd.DataFrame) -> float:
    """The claim's difference in the paper's figures (``paper``: ``home, backbone, method,
    supervision, map``); NaN when the paper reports one of them not (another backbone, say)."""
    reported = paper.set_index(["home", "backbone", "method", "supervision"])["map"]
    total = 0.0
    for term in claim.terms:
        figures = [reported.get((term.home, m.backbone, m.run, m.supervision), np.nan)
                   for m in (term.a, term.b)]
        total += term.sign * (figures[0] - figures[1])
    return float(total)


def claims_table(claims: Sequence[Claim], replicates: Replicates, paper: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: :data:`COLUMNS`. ``paper Δ`` and ``ours Δ`` are the claim's difference
    (mAP points), ``ours Δ low/high`` its interval, ``seeds`` the fewest seeds behind any of its
    terms (0: a model is missing)."""
    rows = []
    for claim in claims:
        parts = [replicates.difference_draws(t.a, t.b, t.home, LEVEL) for t in claim.terms]
        value = sum(t.sign * v for t, (v, _, _) in zip(claim.terms, parts))
        draws = sum(t.sign * d for t, (_, d, _) in zip(claim.terms, parts))
        estimate = replicates.interval(value, draws, min(n for _, _, n in parts))
        reported = paper_difference(claim, paper)
        expected = int(np.sign(reported)) if np.isfinite(reported) and reported != 0 else claim.direction
        rows.append({"claim": claim.statement, "home": claim.home, "supervision": claim.supervision,
                     "paper Δ": reported, "ours Δ": estimate.value, "ours Δ low": estimate.low,
                     "ours Δ high": estimate.high, "seeds": estimate.seeds,
                     "verdict": verdict(estimate.low, estimate.high, expected)})
    return pd.DataFrame(rows, columns=COLUMNS)


def verdict_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many claims of ``table`` have each verdict (every verdict, zeros included)."""
    counts = table["verdict"].value_counts()
    return {name: int(counts.get(name, 0)) for name in VERDICTS}


def counts_sentence(table: pd.DataFrame) -> str:
    """``Of 46 claims of the paper, 4 agree, 1 disagrees and 41 are undecided`` (and how many are
    missing, when some are)."""
    counts = verdict_counts(table)
    tested = len(table) - counts[MISSING]
    text = (f"Of {tested} claims of the paper tested, {counts[AGREES]} agree, "
            f"{counts[DISAGREES]} {'disagrees' if counts[DISAGREES] == 1 else 'disagree'} and "
            f"{counts[UNDECIDED]} {'is' if counts[UNDECIDED] == 1 else 'are'} undecided")
    if counts[MISSING]:
        text += f"; {counts[MISSING]} cannot be tested (a model is missing)"
    return text
