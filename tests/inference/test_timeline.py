"""The timeline picture: scores and detected segments, and the annotation beside them."""
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from vicokd.inference.timeline import timeline_figure

CLASSES = ["A", "B", "C"]
SEGMENTS = pd.DataFrame({"class": ["A", "C"], "start": [0.0, 1.8], "end": [1.0, 3.8], "score": [0.7, 0.9]})


def _boxes(axis):
    return [tuple(np.round((p.get_x(), p.get_y() + 0.42, p.get_width()), 6))
            for p in axis.patches if isinstance(p, Rectangle)]


def test_scores_with_segments_outlined_and_the_annotation_beside():
    scores = np.random.default_rng(0).random((10, 3))
    annotation = pd.DataFrame({"class": ["B"], "start": [0.5], "end": [2.5]})
    figure = timeline_figure(scores, SEGMENTS, CLASSES, 2.5, "rec", annotation)
    heat, truth = figure.axes[:2]  # then the colour bar
    assert len(figure.axes) == 3
    np.testing.assert_array_equal(heat.images[0].get_array(), scores.T)  # classes × time
    # segment boxes on their class rows, from start to end (seconds)
    assert _boxes(heat) == [(0.0, 0, 1.0), (1.8, 2, 2.0)]
    assert sorted(_boxes(truth)) == [(0.0, 0, 1.0), (0.5, 1, 2.0), (1.8, 2, 2.0)]
    assert [t.get_text() for t in heat.get_yticklabels()] == CLASSES


def test_without_annotation_one_panel():
    figure = timeline_figure(np.zeros((4, 3)), SEGMENTS.iloc[:0], CLASSES, 2.5, "rec")
    assert len(figure.axes) == 2  # scores and the colour bar
