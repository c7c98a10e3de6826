import pytest
import torch
from pydantic import PositiveFloat, ValidationError
from training_helpers import (
    FEATURE,
    LOGIT,
    VIEW_CONSISTENCY,
    make_recipe,
    make_settings,
    make_supervision,
)

from vicokd.losses import TermSettings, register_term, unregister_term
from vicokd.training.loop import fit
from vicokd.training.objectives import Objective
from vicokd.training.recipes import term_weights
from vicokd.training.run_table import RunSpec, resolve_run_table


def test_vicokd_recipe_weighs_every_term():
    recipe = make_recipe(feature=FEATURE, logit=LOGIT, view_consistency=VIEW_CONSISTENCY)
    assert term_weights(make_supervision(), recipe) == {
        "frame": 1.0, "sequence": 1.0, "feature": 1.0, "logit": 1.0, "view_consistency": 1.0
    }
    assert recipe.needs_teacher and make_supervision().reads_frame_labels
    assert recipe.feature.features == ["f_attn", "f_av"]


def test_sequence_only_supervision_reads_no_frame_labels():
    supervision = make_supervision(frame=0.0)
    assert term_weights(supervision, make_recipe()) == {"sequence": 1.0}
    assert not supervision.reads_frame_labels and not make_recipe().needs_teacher


def test_view_consistency_alone_needs_no_teacher():
    assert not make_recipe(view_consistency=VIEW_CONSISTENCY).needs_teacher


def test_a_recipe_reads_its_terms_as_attributes():
    recipe = make_recipe(logit=LOGIT)
    assert recipe.logit.temperature == 4.0 and recipe.feature is None
    assert list(recipe) == ["logit"] and "logit" in recipe and "feature" not in recipe
    with pytest.raises(AttributeError):
        recipe.not_a_term  # noqa: B018


@pytest.mark.parametrize(
    "blocks, message",
    [
        ({"logits": LOGIT}, "logits"),
        ({"logit": {**LOGIT, "wieght": 1.0}}, "logit.wieght"),
        ({"feature": {**FEATURE, "features": ["f_nope"]}}, "features"),
        ({"view_consistency": {**VIEW_CONSISTENCY, "divergence": "l2"}}, "divergence"),
        ({"logit": {**LOGIT, "weight": -1.0}}, "weight"),
        ({"view_consistency": {**VIEW_CONSISTENCY, "use_mask": "false"}}, "use_mask"),
    ],
)
def test_bad_recipes_are_refused_naming_the_key(blocks, message):
    with pytest.raises(ValidationError, match=message):
        make_recipe(**blocks)


def test_a_supervision_without_any_term_is_refused():
    with pytest.raises(ValueError, match="no loss term"):
        term_weights(make_supervision(frame=0.0, sequence=0.0), make_recipe())


RAW_TABLE = {
    "teacher": {"group": "teacher", "label": "Teacher", "supervisions": ["AV_F"]},
    "cokd": {"group": "method", "label": "CoKD", "supervisions": ["V_F", "V_S"], "teacher": "teacher",
             "recipe": {"feature": FEATURE, "logit": LOGIT}},
    "vicokd": {"base": "cokd", "label": "ViCoKD", "recipe": {"view_consistency": VIEW_CONSISTENCY}},
    "no_fd": {"base": "vicokd", "group": "ablation", "label": "w/o FD", "recipe": {"feature": None}},
    "no_confw": {"base": "vicokd", "group": "ablation", "label": "w/o ConfW", "homes": ["Home1"],
                 "recipe": {"view_consistency": {"confidence_weighting": False}}},
}


def test_run_table_rows_merge_their_base_chain_and_learn_their_names():
    runs = {name: RunSpec.model_validate(row) for name, row in resolve_run_table(RAW_TABLE).items()}
    assert list(runs) == list(RAW_TABLE)
    assert {name: run.name for name, run in runs.items()} == {name: name for name in RAW_TABLE}
    vicokd, no_fd, no_confw = runs["vicokd"], runs["no_fd"], runs["no_confw"]
    # vicokd = cokd's recipe + view consistency, cokd's group, teacher and supervisions
    assert (vicokd.group, vicokd.teacher, vicokd.supervisions) == ("method", "teacher", ["V_F", "V_S"])
    assert "feature" in vicokd.recipe and "view_consistency" in vicokd.recipe
    assert vicokd.base == "cokd"
    # an ablation is vicokd with one switch: null turns a term off, a mapping changes single keys
    assert "feature" not in no_fd.recipe and no_fd.recipe.logit == vicokd.recipe.logit
    assert no_fd.base == "vicokd" and no_fd.group == "ablation"
    assert no_confw.recipe.view_consistency.confidence_weighting is False
    assert no_confw.recipe.view_consistency.use_mask is True
    assert RAW_TABLE["no_confw"]["recipe"]["view_consistency"] == {"confidence_weighting": False}
    # a run is trained in every evaluation home unless it names some
    assert vicokd.trained_homes(["Home1", "Home2"]) == ["Home1", "Home2"]
    assert no_confw.trained_homes(["Home1", "Home2"]) == ["Home1"]
    assert no_confw.trained_homes(["Home2"]) == []


def test_run_table_errors_name_the_row():
    with pytest.raises(ValueError, match="runs.x: base 'nope'"):
        resolve_run_table({"x": {"base": "nope"}})
    with pytest.raises(ValueError, match="cycle"):
        resolve_run_table({"a": {"base": "b"}, "b": {"base": "a"}})
    distils_without_teacher = {**RAW_TABLE["cokd"], "teacher": None, "name": "cokd"}
    with pytest.raises(ValidationError, match="names no teacher"):
        RunSpec.model_validate(distils_without_teacher)
    with pytest.raises(ValidationError, match="unknown training key"):
        RunSpec.model_validate({**RAW_TABLE["teacher"], "name": "t", "training": {"epoch": 3}})


class LogitPenalty(TermSettings):
    """Settings of a term that exists only in this test."""

    power: PositiveFloat


@pytest.fixture
def logit_penalty():
    """A loss term registered by this test alone: the mean |frame logit| ** power."""

    @register_term("logit_penalty", LogitPenalty)
    def penalty(settings, output, batch, teacher):
        return output.frame_logits.abs().pow(settings.power).mean()

    yield penalty
    unregister_term("logit_penalty")


def test_a_term_registered_alone_is_a_recipe_row_that_trains_and_is_recorded(
        logit_penalty, tmp_path, clips, tiny_model):
    table_row = {"name": "penalised", "group": "method", "label": "Penalised", "supervisions": ["V_F"],
           "recipe": {"logit_penalty": {"weight": 0.5, "power": 2.0}}}
    run = RunSpec.model_validate(table_row)
    assert run.recipe.logit_penalty.power == 2.0 and run.recipe.logit is None
    assert term_weights(make_supervision(), run.recipe) == {"frame": 1.0, "sequence": 1.0,
                                                           "logit_penalty": 0.5}
    torch.manual_seed(0)
    model = tiny_model()
    before = model.head.weight.detach().clone()
    result = fit(model, Objective(make_supervision(), run.recipe), clips,
                 lambda m: {"val_seq_map": 1.0, "test_seq_map": 1.0, "val_map": 1.0, "test_map": 1.0},
                 make_settings(epochs=1), tmp_path, seed=0, fingerprint="f")
    row = result.history.iloc[0]
    assert row["loss.logit_penalty"] > 0 and row["grad.logit_penalty"] > 0
    assert row["grad.logit_penalty.share"] == pytest.approx(
        row["grad.logit_penalty"] / row["grad.supervision"])
    assert row["loss"] == pytest.approx(
        row["loss.frame"] + row["loss.sequence"] + 0.5 * row["loss.logit_penalty"], rel=1e-5)
    assert not torch.equal(model.head.weight, before)
    with pytest.raises(ValidationError, match="(?s)logit_penalty.*pwoer"):
        RunSpec.model_validate({**run.model_dump(), "recipe": {"logit_penalty": {"pwoer": 2.0}}})
