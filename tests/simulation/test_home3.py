"""Home3, the pretraining home: its own plan, cameras and colours; deterministic; Home1-style files."""
import json

import numpy as np

from vicokd.simulation.generate import SimulationSettings, make_scripts, simulate_dataset
from vicokd.simulation.render import static_scene
from vicokd.simulation.world import ObjectState, make_home

SMALL = SimulationSettings(sequences_per_home=1, duration=6.0, fps=5, width=64, height=48, sessions=1,
                           crf=20)


def test_home3_has_its_own_plan_cameras_and_colours():
    home3 = make_home("Home3")
    assert set(home3.places) == set(make_home("Home1").places)  # the same actions can happen
    for name in ("Home1", "Home2"):
        other = make_home(name)
        assert home3.size != other.size and len(home3.rooms) != len(other.rooms)
        assert all(home3.places[p].spot != other.places[p].spot for p in home3.places)
        assert {c.position for c in home3.cameras}.isdisjoint({c.position for c in other.cameras})
        assert home3.finish != other.finish
        for v in range(len(home3.cameras)):  # no Home3 view looks like any view of the other home
            image, _ = static_scene(home3, v, ObjectState(), 64, 48)
            diffs = [np.abs(image.astype(int) - static_scene(other, u, ObjectState(), 64, 48)[0]).mean()
                     for u in range(len(other.cameras))]
            assert min(diffs) > 10, (name, v, diffs)


def test_home3_scripts_come_from_their_own_seed_stream():
    home3 = [s.tricks for s in make_scripts("Home3", SMALL, seed=0)]
    assert home3 == [s.tricks for s in make_scripts("Home3", SMALL, seed=0)]
    assert home3 != [s.tricks for s in make_scripts("Home1", SMALL, seed=0)]
    assert home3 != [s.tricks for s in make_scripts("Home3", SMALL, seed=1)]


def test_home3_dataset_is_deterministic_with_home1_style_annotation_files(tmp_path):
    first = simulate_dataset(tmp_path / "a", ["Home3"], SMALL, seed=5)
    again = simulate_dataset(tmp_path / "b", ["Home3"], SMALL, seed=5)
    a, b = tmp_path / "a" / "Home3", tmp_path / "b" / "Home3"
    names = ["all_labels.json", "test.json", "train.json"]
    assert sorted(p.name for p in a.glob("*.json")) == names
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes()
    records = json.loads((a / "all_labels.json").read_text())
    assert len(records) == SMALL.sequences_per_home
    assert all((a / r[f"video_url_{k}"]).is_file() for r in records for k in range(1, 6))
    assert first.equals(again) and set(first["home"]) == {"Home3"} and first["visible"].any()
