"""The claims table: claims derived from the run table's groups, verdicts from intervals."""
import numpy as np
import pandas as pd
import pytest

from vicokd.reporting import claims
from vicokd.reporting.intervals import Model, Replicates, SeedDraws
from vicokd.reporting.paper import paper_results
from vicokd.training.run_table import RunSpec, resolve_run_table

HOMES = ["Home1", "Home2"]
RUN_TABLE = {
    "tutor": {"group": "teacher", "label": "Tutor", "supervisions": ["AV_F"]},
    "tutor_vc": {"base": "tutor", "label": "Tutor + VC"},
    "plain": {"group": "method", "label": "Plain", "supervisions": ["V_F", "V_S"], "teacher": "tutor"},
    "kd": {"base": "plain", "label": "KD", "recipe": {"logit": {"weight": 1.0, "temperature": 4.0}}},
    "kd_plus": {"base": "kd", "label": "KD+", "supervisions": ["V_S"]},
    "kd_minus": {"base": "kd_plus", "group": "ablation", "label": "KD+ w/o x", "homes": ["Home1"]},
}


def _runs(table=RUN_TABLE) -> dict[str, RunSpec]:
    return {name: RunSpec.model_validate(row) for name, row in resolve_run_table(table).items()}


@pytest.mark.parametrize(("low", "high", "expected", "verdict"), [
    (0.5, 3.0, 1, "agrees"), (-3.0, -0.5, 1, "disagrees"), (-1.0, 2.0, 1, "undecided"),
    (-3.0, -0.5, -1, "agrees"), (0.5, 3.0, -1, "disagrees"), (-2.0, 1.0, -1, "undecided"),
    (0.0, 0.0, 1, "undecided"), (0.0, 2.0, 1, "undecided"), (-2.0, 0.0, -1, "undecided"),
    (np.nan, np.nan, 1, "missing"),
])
def test_verdict_from_the_interval_and_the_expected_side(low, high, expected, verdict):
    assert claims.verdict(low, high, expected) == verdict


def test_claims_come_from_the_groups_and_the_baseline_not_from_names():
    derived = claims.derive_claims(_runs(), "plain", HOMES, "multitsf")
    statements = list(dict.fromkeys(c.statement for c in derived))
    assert statements == ["Tutor > Plain", "KD > Plain", "KD+ > Plain", "KD+ > KD", "KD+ − KD: Home1 > Home2",
                          "KD+ w/o x < KD+", "Tutor + VC > Tutor"]
    by = {(c.statement, c.home, c.supervision): c for c in derived}
    teacher = by["Tutor > Plain", "Home2", "V_S"]
    assert teacher.terms[0].a == Model("multitsf", "tutor", "AV_F")
    assert teacher.terms[0].b == Model("multitsf", "plain", "V_S")
    assert [(c.home, c.supervision) for c in derived if c.statement == "KD+ > Plain"] == [
        ("Home1", "V_S"), ("Home2", "V_S")]  # KD+ trains V_S only
    gain = by["KD+ − KD: Home1 > Home2", "Home1 vs Home2", "V_S"]
    assert [(t.home, t.sign) for t in gain.terms] == [("Home1", 1), ("Home2", -1)]
    ablation = [c for c in derived if c.statement == "KD+ w/o x < KD+"]
    assert [(c.home, c.direction) for c in ablation] == [("Home1", -1)]  # trained in Home1 only
    assert len(derived) == 4 + 4 + 2 + 2 + 1 + 1 + 2
    # another baseline: the claims follow it
    assert claims.derive_claims(_runs(), "kd", HOMES, "multitsf")[0].statement == "Tutor > KD"


def _replicates(values: dict) -> Replicates:
    """One seed per model: a difference's replicates are the difference of the models' draws."""
    models = {(Model("multitsf", run, supervision), home, "sequence"):
              SeedDraws({0: float(draws.mean())}, {0: draws})
              for (run, supervision, home), draws in values.items()}
    return Replicates(models, {h: 10 for h in HOMES}, replicates=101, confidence=0.95, seed=0)


def test_claims_table_values_paper_side_and_verdicts():
    spread = np.linspace(-1.0, 1.0, 101)
    values = {("tutor", "AV_F", h): 60 + spread for h in HOMES}
    values |= {("plain", s, h): 50 + 2 * spread for s in ("V_F", "V_S") for h in HOMES}  # tutor: +10
    values |= {("kd", s, h): 50 + 3 * spread for s in ("V_F", "V_S") for h in HOMES}  # kd − plain ∈ ±1
    values |= {("kd_plus", "V_S", "Home1"): 53 + 3 * spread, ("kd_plus", "V_S", "Home2"): 50.5 + 3 * spread}
    paper = pd.DataFrame([  # the paper puts KD below Plain in Home2 V_F: the expected side flips
        {"home": "Home2", "backbone": "multitsf", "method": "kd", "supervision": "V_F", "map": 40.0},
        {"home": "Home2", "backbone": "multitsf", "method": "plain", "supervision": "V_F", "map": 45.0},
        {"home": "Home1", "backbone": "multitsf", "method": "tutor", "supervision": "AV_F", "map": 70.0},
        {"home": "Home1", "backbone": "multitsf", "method": "plain", "supervision": "V_F", "map": 61.5}])
    table = claims.claims_table(claims.derive_claims(_runs(), "plain", HOMES, "multitsf"),
                                _replicates(values), paper).set_index(["claim", "home", "supervision"])
    assert list(table.columns) == claims.COLUMNS[3:]
    teacher = table.loc[("Tutor > Plain", "Home1", "V_F")]
    assert teacher["paper Δ"] == pytest.approx(8.5) and teacher["ours Δ"] == pytest.approx(10.0)
    assert (teacher["ours Δ low"], teacher["ours Δ high"]) == pytest.approx(
        np.percentile(10 - spread, [2.5, 97.5]))
    assert teacher["verdict"] == "agrees" and teacher["seeds"] == 1
    assert np.isnan(table.loc[("Tutor > Plain", "Home2", "V_F"), "paper Δ"])  # not reported: direction +
    assert table.loc[("KD > Plain", "Home1", "V_F"), "verdict"] == "undecided"
    assert table.loc[("KD > Plain", "Home2", "V_F"), "paper Δ"] == pytest.approx(-5.0)
    # KD+ − KD: +3 in Home1, +0.5 in Home2 (both ± 0 spread: same spread, paired draws cancel)
    assert table.loc[("KD+ > KD", "Home1", "V_S"), "verdict"] == "agrees"
    gain = table.loc[("KD+ − KD: Home1 > Home2", "Home1 vs Home2", "V_S")]
    assert gain["ours Δ"] == pytest.approx(2.5) and gain["verdict"] == "agrees"
    # the ablation and the VC teacher were not run: missing
    assert table.loc[("KD+ w/o x < KD+", "Home1", "V_S"), "verdict"] == "missing"
    assert table.loc[("KD+ w/o x < KD+", "Home1", "V_S"), "seeds"] == 0
    assert claims.verdict_counts(table.reset_index())["missing"] == 3
    assert claims.counts_sentence(table.reset_index()).startswith("Of 13 claims of the paper tested, ")


def test_a_decided_claim_against_the_paper_disagrees():
    spread = np.linspace(-1.0, 1.0, 101)
    values = {("plain", s, h): 50 + spread for s in ("V_F", "V_S") for h in HOMES}
    values |= {("kd", s, h): 45 + spread for s in ("V_F", "V_S") for h in HOMES}  # exactly −5
    table = claims.claims_table(claims.derive_claims(_runs(), "plain", HOMES, "multitsf"),
                                _replicates(values), paper_results())
    kd = table[table["claim"] == "KD > Plain"]
    assert (kd["verdict"] == "disagrees").all() and (kd["ours Δ low"] == -5).all()


def test_the_paper_figures_are_the_run_names_of_the_run_table():
    paper = paper_results()
    default = {"teacher", "student", "vicokd", "cokd", "no_confw", "no_mask", "kl", "no_fd", "no_ld"}
    assert set(paper["method"]) == default
    assert len(paper) == 3 * 2 * 7 + 5 * 2  # 3 backbones × 2 homes × Table 1's 7 cells, ablations
    row = paper[(paper["home"] == "Home1") & (paper["backbone"] == "multiasl") & (paper["method"] == "no_ld")
                & (paper["supervision"] == "V_S")]
    assert row["map"].tolist() == [61.51]
