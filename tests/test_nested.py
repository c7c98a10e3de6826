import pytest

from vicokd.nested import flatten


def test_flatten_dots_mappings_indexes_lists_of_mappings_and_keeps_other_leaves():
    tree = {"model": {"dim": 64, "encoder": {"layers": 2}}, "terms": [{"loss": "kl"}, {"w": 2}],
            "ids": [1, 2], "empty": {}, "name": "x"}
    assert flatten(tree) == {"model.dim": 64, "model.encoder.layers": 2, "terms.0.loss": "kl",
                             "terms.1.w": 2, "ids": [1, 2], "empty": {}, "name": "x"}
    assert flatten({}) == {}
    assert flatten({"b": 1}, prefix="a") == {"a.b": 1}


def test_flatten_refuses_two_keys_with_one_dotted_name():
    with pytest.raises(ValueError, match="'a.b'"):
        flatten({"a.b": 1, "a": {"b": 2}})
