"""View overlap of the evaluation homes, measured with the renderer's own visibility test."""
import numpy as np
import pandas as pd
import pytest

from vicokd.simulation.generate import SimulationSettings, simulate_truth
from vicokd.simulation.truth import view_overlap

#: The default demo's images (160x120) and 24-s scripts, on fewer sequences at half the frame rate.
MODEST = SimulationSettings(sequences_per_home=16, duration=24.0, fps=5, width=160, height=120,
                            sessions=8, crf=20)


@pytest.fixture(scope="module")
def modest_truth():
    return simulate_truth(["Home1", "Home2"], MODEST, seed=0)


def test_view_overlap_counts_person_frames_seen_by_two_or_more_views():
    # frame 0: views 1+2 see the person; frame 1: view 3 only; frame 2: nobody; frame 3: all three
    visible = [[1, 1, 0], [0, 0, 1], [0, 0, 0], [1, 1, 1]]
    truth = pd.DataFrame([{"home": "H", "sequence_id": "H/01/00-Part1", "frame": k, "view": v + 1,
                           "visible": bool(seen)}
                          for k, row in enumerate(visible) for v, seen in enumerate(row)])
    overlap = view_overlap(truth)["H"]
    assert overlap["person_frames"] == 3
    assert overlap["share_seen_by_2_or_more_views"] == pytest.approx(2 / 3)
    assert overlap["mean_views_seeing_person"] == pytest.approx((2 + 1 + 3) / 3)
    assert overlap["share_of_frames_person_unseen"] == pytest.approx(1 / 4)


def test_home1_views_overlap_partially_and_home2_views_a_lot(modest_truth):
    overlap = view_overlap(modest_truth)
    assert 0.25 <= overlap["Home1"]["share_seen_by_2_or_more_views"] <= 0.45, overlap["Home1"]
    assert overlap["Home2"]["share_seen_by_2_or_more_views"] >= 0.85, overlap["Home2"]


def test_every_home1_view_sees_the_person_where_no_other_view_does(modest_truth):
    home1 = modest_truth[modest_truth["home"] == "Home1"]
    visible = home1.pivot_table(index=["sequence_id", "frame"], columns="view", values="visible",
                                aggfunc="first").astype(int)
    seen = visible[visible.sum(axis=1) > 0]
    alone = seen[seen.sum(axis=1) == 1].sum() / len(seen)  # per view: share of person-frames seen alone
    assert list(alone.index) == [1, 2, 3, 4, 5]
    assert (alone >= 0.01).all(), alone.to_dict()


def test_truth_without_files_is_the_written_datasets_truth(tiny_dataset, tiny_settings):
    _, truth = tiny_dataset
    fast = simulate_truth(["Home1", "Home2"], tiny_settings, seed=3)
    assert fast.equals(truth)
    assert np.array_equal(fast.dtypes, truth.dtypes)
