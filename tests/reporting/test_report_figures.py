import numpy as np
import pandas as pd
import pytest

from vicokd.reporting import figures


def _history(epochs: int, offset: float, homes=("Home1", "Home2")) -> pd.DataFrame:
    epoch = np.arange(1, epochs + 1)
    return pd.concat([
        pd.DataFrame({"epoch": epoch, "lr": 1e-4, "seconds": 1.0, "loss": 1 / epoch,
                      "val_seq_map": offset + epoch + 10 * h, "test_seq_map": offset + 2 * epoch + 10 * h, "home": home})
        for h, home in enumerate(homes)
    ], ignore_index=True)


def _curves(methods: dict[str, tuple[str, ...]], epochs: int = 3) -> pd.DataFrame:
    """Figure 3's input: method -> its supervision levels, each with one curve per home."""
    return pd.concat([
        _history(epochs, 10 * m + 3 * s).assign(method=method, supervision=level)
        for m, (method, levels) in enumerate(methods.items()) for s, level in enumerate(levels)
    ], ignore_index=True)


def test_map_curves_draws_one_panel_per_home_supervision_and_split(tmp_path):
    curves = _curves({"Teacher": ("AV_F",), "Student": ("V_F", "V_S"), "CoKD": ("V_F", "V_S"),
                      "ViCoKD": ("V_F", "V_S")})
    figure = figures.map_curves(curves, references=["Teacher"])
    panels = np.array(figure.axes).reshape(2, 4)  # homes × (V_F, V_S) × (validation, test)
    assert [axis.get_title() for axis in panels[1]] == [
        "Home2 · V_F · validation", "Home2 · V_F · test", "Home2 · V_S · validation",
        "Home2 · V_S · test"]
    v_s_test = panels[1, 3]
    assert [line.get_label() for line in v_s_test.get_lines()] == ["Teacher", "Student", "CoKD",
                                                                   "ViCoKD"]
    expected = curves.query("home == 'Home2' and method == 'CoKD' and supervision == 'V_S'")
    np.testing.assert_array_equal(v_s_test.get_lines()[2].get_ydata(), expected["test_seq_map"])
    teacher = curves.query("home == 'Home2' and method == 'Teacher'")["test_seq_map"]
    for axis in panels[1, [1, 3]]:  # the reference in every panel of its home
        np.testing.assert_array_equal(axis.get_lines()[0].get_ydata(), teacher)
    styles = [(line.get_color(), line.get_marker(), line.get_linestyle())
              for line in v_s_test.get_lines()]
    assert len(set(styles)) == len(styles)  # every method its own colour and marker
    assert styles[0][0] == "black" and styles[0][2] == "--"
    assert styles == [(line.get_color(), line.get_marker(), line.get_linestyle())
                      for line in panels[0, 1].get_lines()]  # the same style in every panel
    assert [text.get_text() for text in figure.legends[0].get_texts()] == [
        "Teacher", "Student", "CoKD", "ViCoKD"]
    figure.savefig(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 0


def test_map_curves_without_test_scores_draws_the_validation_panels_only():
    curves = _curves({"Teacher": ("AV_F",), "Student": ("V_F", "V_S")}).drop(columns="test_seq_map")
    figure = figures.map_curves(curves, references=["Teacher"])
    assert [axis.get_title() for axis in figure.axes] == [
        f"{home} · {level} · validation" for home in ("Home1", "Home2") for level in ("V_F", "V_S")]


def test_map_curves_rejects_a_history_without_map():
    with pytest.raises(ValueError, match="val_seq_map"):
        figures.map_curves(_curves({"bad": ("V_F",)}).drop(columns="val_seq_map"))
    with pytest.raises(ValueError):
        figures.map_curves(_curves({"empty": ("V_F",)}).iloc[:0])


def _attention(rng, views, steps):
    weights = rng.random((views, steps, steps))
    return weights / weights.sum(-1, keepdims=True)


def test_attention_figure_shows_views_by_models_with_chosen_rows():
    rng = np.random.default_rng(0)
    views, steps = 5, 8
    frames = rng.integers(0, 255, (views, steps, 12, 16, 3), dtype=np.uint8)
    attention = {name: _attention(rng, views, steps) for name in ("Teacher", "Student", "ViCoKD")}
    numbers = [2, 7, 12, 17, 22, 27, 32, 37]  # the 2.5-FPS frame of each of the T frames
    figure = figures.attention_figure(attention, frames, [0, 3, 7], title="Home1/01/00-Part1",
                                      frame_numbers=numbers)
    panels = [axis for axis in figure.axes if axis.get_label() != "<colorbar>"]
    assert len(panels) == views * 4
    grid = np.array(panels).reshape(views, 4)
    assert grid[0, 0].get_images()[0].get_array().shape == (12, 16 * 3, 3)
    shown = grid[2, 3].get_images()[0].get_array()
    np.testing.assert_allclose(shown, attention["ViCoKD"][2][[0, 3, 7]])
    assert [axis.get_title() for axis in grid[0, 1:]] == ["Teacher", "Student", "ViCoKD"]
    # one numbering: the frames' title and every panel's query ticks name the same frames
    assert grid[0, 0].get_title() == "frames 2, 17, 37"
    heat = grid[4, 2]
    assert [tick.get_text() for tick in heat.get_yticklabels()] == ["2", "17", "37"]
    keys = [tick.get_text() for tick in heat.get_xticklabels()]
    assert keys and all(int(key) in numbers for key in keys)  # whole frame numbers, no 2.5
    assert list(heat.get_xticks()) == [numbers.index(int(key)) for key in keys]
    assert keys == [str(n) for n in numbers]  # T = 8: every key frame named
    caption, = (text.get_text() for text in figure.texts if "Look for" in text.get_text())
    assert "a flat row at 1/8 = 0.12 ignores" in caption


def test_attention_figure_rejects_wrong_shapes_and_indices():
    rng = np.random.default_rng(1)
    frames = np.zeros((5, 8, 4, 4, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="'Teacher'.*\\(5, 8, 8\\)"):
        figures.attention_figure({"Teacher": _attention(rng, 5, 6)}, frames, [0])
    with pytest.raises(ValueError, match="frame_indices"):
        figures.attention_figure({"Teacher": _attention(rng, 5, 8)}, frames, [8])


def test_figure3_node_draws_table1s_models_mean_over_seeds_with_a_band():
    from vicokd.pipelines.reporting.nodes import plot_map_curves

    def partition(run, label, group, seed, offset, supervision="V_F"):
        history = _history(3, offset).assign(run=run, label=label, group=group, seed=seed,
                                             supervision=supervision,
                                             teacher=None if group == "teacher" else "teacher")
        return {f"{home}/seed{seed}": (lambda h=history[history["home"] == home]: h)
                for home in ("Home1", "Home2")}

    figure = plot_map_curves(
        history__teacher=partition("teacher", "Teacher", "teacher", 0, 60, "AV_F"),
        history__teacher_vc=partition("teacher_vc", "Teacher + VC", "teacher", 0, 61, "AV_F"),
        history__student=partition("student", "Student", "method", 0, 40)
        | partition("student", "Student", "method", 1, 44),
        history__no_fd=partition("no_fd", "w/o FD", "ablation", 0, 30),
    )
    test = figure.axes[1]  # Home1, V_F, test split
    assert test.get_title() == "Home1 · V_F · test"
    # Table 1's models only: the teacher the methods distil from, and the methods
    assert [line.get_label() for line in test.get_lines()] == ["Teacher", "Student"]
    seeds = [_history(3, offset).query("home == 'Home1'")["test_seq_map"].to_numpy()
             for offset in (40, 44)]
    np.testing.assert_allclose(test.get_lines()[1].get_ydata(), (seeds[0] + seeds[1]) / 2)
    band = test.collections[1].get_paths()[0].vertices[:, 1]  # the teacher's (one seed) first
    np.testing.assert_allclose([band.min(), band.max()],
                               [seeds[0].min() + 2 - np.std([0, 4], ddof=1),
                                seeds[1].max() - 2 + np.std([0, 4], ddof=1)])
    assert "mean of 2 seeds" in figure._suptitle.get_text()


def test_saliency_figure_gives_each_model_one_colour_scale_over_its_views():
    frames = np.zeros((2, 4, 8, 8, 3), dtype=np.uint8)
    maps = {"Teacher": np.zeros((2, 4, 2, 2)), "Student": np.zeros((2, 4, 2, 2))}
    maps["Teacher"][0, 1] = 4.0  # view 1 holds the evidence at frame 1 ...
    maps["Teacher"][1, 1, 0, 0] = 0.5  # ... view 2 little
    maps["Teacher"][0, 0] = 9.0  # frame 0 is not drawn: it sets no scale
    maps["Student"][1, 3, 1, 1] = 0.02
    scores = {"Teacher": np.array([0.1, 0.8, 0.3, 0.6]), "Student": np.array([0.2, 0.4, 0.5, 0.7])}
    figure = figures.saliency_figure(frames, maps, [1, 3], frame_numbers=[5, 15, 25, 35],
                                     scores=scores, caption="Look for the person.")
    colour_bars = [axis for axis in figure.axes if axis.get_label() == "<colorbar>"]
    assert [bar.get_xlabel() for bar in colour_bars] == ["Teacher: saliency / its max",
                                                         "Student: saliency / its max"]
    panels = np.array([axis for axis in figure.axes
                       if axis.get_label() != "<colorbar>"]).reshape(2, 6)
    # columns: frames 15, 35; Teacher at 15, 35; Student at 15, 35
    assert [axis.get_title() for axis in panels[0]] == [
        "frame 15", "frame 35", "Teacher\nframe 15, p = 0.80", "Teacher\nframe 35, p = 0.60",
        "Student\nframe 15, p = 0.40", "Student\nframe 35, p = 0.70"]

    def overlay(view, column):
        return panels[view, column].get_images()[1].get_array()

    assert overlay(0, 2).max() == pytest.approx(1.0)
    assert overlay(1, 2).max() == pytest.approx(0.5 / 4.0)  # the weak view stays cold
    assert overlay(1, 5).max() == pytest.approx(1.0)  # the student's scale is its own
    assert "Look for the person." in [text.get_text() for text in figure.texts]
