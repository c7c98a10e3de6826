import pytest

from vicokd.training.recipes import Recipe, merge_recipe

V_F = {"frame": 1.0, "sequence": 1.0}
V_S = {"frame": 0.0, "sequence": 1.0}
VICOKD = {
    "feature": {"weight": 1.0, "features": ["f_attn", "f_av"]},
    "logit": {"weight": 1.0, "temperature": 4.0},
    "view_consistency": {"weight": 1.0},
}


def test_vicokd_recipe_has_every_term_and_round_trips():
    recipe = merge_recipe(V_F, VICOKD)
    assert recipe.weights() == {
        "frame": 1.0, "sequence": 1.0, "feature": 1.0, "logit": 1.0, "view_consistency": 1.0
    }
    assert recipe.needs_teacher and recipe.reads_frame_labels
    assert recipe.feature.features == ("f_attn", "f_av")
    assert Recipe.from_dict(recipe.to_dict()) == recipe


def test_sequence_only_supervision_reads_no_frame_labels():
    recipe = merge_recipe(V_S, {})
    assert recipe.weights() == {"sequence": 1.0}
    assert not recipe.reads_frame_labels and not recipe.needs_teacher


def test_view_consistency_alone_needs_no_teacher():
    assert not merge_recipe(V_F, {"view_consistency": {"weight": 1.0}}).needs_teacher


@pytest.mark.parametrize(
    "supervision, method, message",
    [
        (V_F, {"logits": {"weight": 1.0}}, "Unknown recipe block"),
        (V_F, {"logit": {"wieght": 1.0}}, "Unknown key"),
        (V_F, {"feature": {"weight": 1.0, "features": ["f_nope"]}}, "Unknown feature"),
        (V_F, {"view_consistency": {"weight": 1.0, "divergence": "l2"}}, "divergence"),
        (V_F, {"logit": {"weight": -1.0}}, ">= 0"),
        ({"frame": 0.0, "sequence": 0.0}, {}, "no loss term"),
        (V_F, {"supervision": V_S}, "may not set"),
    ],
)
def test_bad_recipes_are_refused(supervision, method, message):
    with pytest.raises(ValueError, match=message):
        merge_recipe(supervision, method)
