import pytest

from vicokd.losses import (
    TermSettings,
    ViewConsistencySettings,
    loss_term,
    register_term,
    registered_terms,
)


def test_the_built_in_terms_are_registered_by_kind():
    assert list(registered_terms("supervision")) == ["frame", "sequence", "presence", "actionness"]
    assert list(registered_terms("recipe")) == ["feature", "logit", "view_consistency"]
    assert loss_term("feature").reads_teacher and loss_term("logit").reads_teacher
    assert not loss_term("view_consistency").reads_teacher
    assert loss_term("view_consistency").settings is ViewConsistencySettings


def test_unknown_terms_are_refused_naming_the_registered_ones():
    with pytest.raises(ValueError, match="unknown recipe loss term 'frame'.*view_consistency"):
        loss_term("frame", kind="recipe")
    with pytest.raises(ValueError, match="unknown loss term 'nope'"):
        loss_term("nope")


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        register_term("logit", TermSettings)(lambda settings, output, batch, teacher: None)
