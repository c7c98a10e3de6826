"""Content digests of array stores: the bytes decide, and a store is hashed once per process."""
import numpy as np

from vicokd.data import digests
from vicokd.data.digests import content_digest
from vicokd.datasets import ArrayStoreDataset


def test_a_store_digest_is_its_arrays_digest_computed_once_and_never_stale(tmp_path, monkeypatch):
    arrays = {"Home1/a": np.arange(6, dtype=np.int16).reshape(2, 3), "Home1/b": np.ones(4)}
    dataset = ArrayStoreDataset(str(tmp_path / "store"))
    dataset.save(arrays)
    store = dataset.load()
    expected = content_digest(dict(arrays), ["Home1/b", "Home1/a"])  # a plain mapping: no cache
    assert content_digest(store, ["Home1/a", "Home1/b"]) == expected
    assert content_digest(store, ["Home1/a"]) != expected

    def unread(*args, **kwargs):
        raise AssertionError("the store was read again")

    with monkeypatch.context() as patch:
        patch.setattr(digests, "_digest", unread)
        assert content_digest(dataset.load(), {"Home1/b", "Home1/a"}) == expected

    changed = {**arrays, "Home1/a": arrays["Home1/a"] + 1}
    dataset.save(changed)  # a new generation: hashed anew
    assert content_digest(dataset.load(), ["Home1/a", "Home1/b"]) == \
        content_digest(dict(changed), ["Home1/a", "Home1/b"]) != expected
