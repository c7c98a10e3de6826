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


def test_map_curves_draws_one_line_per_model_and_metric(tmp_path):
    histories = {"teacher AV_F": _history(3, 50), "student V_F": _history(3, 40), "vicokd V_S": _history(2, 45)}
    figure = figures.map_curves(histories)
    assert len(figure.axes) == 4  # two homes × (validation, test)
    validation, test = figure.axes[2:4]  # Home2
    assert test.get_title() == "Home2: test split"
    assert [line.get_label() for line in test.get_lines()] == list(histories)
    home2 = histories["teacher AV_F"].query("home == 'Home2'")
    np.testing.assert_array_equal(test.get_lines()[0].get_ydata(), home2["test_seq_map"])
    np.testing.assert_array_equal(validation.get_lines()[1].get_ydata(),
                                  histories["student V_F"].query("home == 'Home2'")["val_seq_map"])
    assert test.get_lines()[2].get_linestyle() == "--"  # V_S dashed
    figure.savefig(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 0


def test_map_curves_rejects_a_history_without_map():
    with pytest.raises(ValueError, match="'bad'.*test_seq_map"):
        figures.map_curves({"bad": _history(2, 0).drop(columns="test_seq_map")})
    with pytest.raises(ValueError):
        figures.map_curves({})


def _attention(rng, views, steps):
    weights = rng.random((views, steps, steps))
    return weights / weights.sum(-1, keepdims=True)


def test_attention_figure_shows_views_by_models_with_chosen_rows():
    rng = np.random.default_rng(0)
    views, steps = 5, 8
    frames = rng.integers(0, 255, (views, steps, 12, 16, 3), dtype=np.uint8)
    attention = {name: _attention(rng, views, steps) for name in ("Teacher", "Student", "ViCoKD")}
    figure = figures.attention_figure(attention, frames, [0, 3, 7], title="Home1/01/00-Part1")
    panels = [axis for axis in figure.axes if axis.get_label() != "<colorbar>"]
    assert len(panels) == views * 4
    grid = np.array(panels).reshape(views, 4)
    assert grid[0, 0].get_images()[0].get_array().shape == (12, 16 * 3, 3)
    shown = grid[2, 3].get_images()[0].get_array()
    np.testing.assert_allclose(shown, attention["ViCoKD"][2][[0, 3, 7]])
    assert [axis.get_title() for axis in grid[0, 1:]] == ["Teacher", "Student", "ViCoKD"]


def test_attention_figure_rejects_wrong_shapes_and_indices():
    rng = np.random.default_rng(1)
    frames = np.zeros((5, 8, 4, 4, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="'Teacher'.*\\(5, 8, 8\\)"):
        figures.attention_figure({"Teacher": _attention(rng, 5, 6)}, frames, [0])
    with pytest.raises(ValueError, match="frame_indices"):
        figures.attention_figure({"Teacher": _attention(rng, 5, 8)}, frames, [8])


def test_figure3_node_draws_the_mean_over_seeds_with_a_band_and_leaves_out_the_ablations():
    from vicokd.pipelines.reporting.nodes import plot_map_curves

    def partition(run, label, group, seed, offset):
        history = _history(3, offset).assign(run=run, label=label, group=group, supervision="V_F", seed=seed)
        return {f"{home}/seed{seed}": (lambda h=history[history["home"] == home]: h) for home in ("Home1", "Home2")}

    figure = plot_map_curves(
        history__student=partition("student", "Student", "method", 0, 40)
        | partition("student", "Student", "method", 1, 44),
        history__no_fd=partition("no_fd", "w/o FD", "ablation", 0, 30),
    )
    test = figure.axes[1]  # Home1, test split
    assert [line.get_label() for line in test.get_lines()] == ["Student V_F"]
    seeds = [_history(3, offset).query("home == 'Home1'")["test_seq_map"].to_numpy() for offset in (40, 44)]
    np.testing.assert_allclose(test.get_lines()[0].get_ydata(), (seeds[0] + seeds[1]) / 2)
    band = test.collections[0].get_paths()[0].vertices[:, 1]
    np.testing.assert_allclose([band.min(), band.max()],
                               [seeds[0].min() + 2 - np.std([0, 4], ddof=1),
                                seeds[1].max() - 2 + np.std([0, 4], ddof=1)])
    assert "mean of 2 seeds" in figure._suptitle.get_text()
