"""benchmarks/grid.py: a cell's conf moves only what the cell writes; the report against the paper."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml

from project_parameters import CONF
from vicokd.configuration import ProjectConfigLoader
from vicokd.settings import CONFIG_LOADER_ARGS


@pytest.fixture
def grid(import_benchmark):
    return import_benchmark("grid")


def catalog(conf_source, env: str) -> dict:
    return ProjectConfigLoader(str(conf_source), env=env, **CONFIG_LOADER_ARGS)["catalog"]


def test_a_cell_conf_moves_the_training_and_reporting_datasets_only(grid, tmp_path):
    cell = "data/test/benchmark/multiasl"
    conf = grid.assemble_conf("test", cell, tmp_path / "conf")
    moved, project = catalog(conf, "test"), catalog(CONF, "test")

    written = {name for file in grid.CELL_CATALOGS
               for name in yaml.safe_load((CONF / "base" / file).read_text()) if not name.startswith("_")}
    assert {"{run}_model_{supervision}", "{run}_predictions_{supervision}", "model_metrics",
            "table1_methods", "run_summary"} <= written
    assert moved.keys() == project.keys()
    for name, entry in project.items():
        if name in written:
            key = "filepath" if "filepath" in entry else "path"
            entry = {**entry, key: entry[key].replace("data/test", cell, 1)}
        assert moved[name] == entry, name
    assert moved["{run}_model_{supervision}"]["path"] == f"{cell}/06_models/{{run}}/{{supervision}}"
    assert moved["sequences"]["filepath"] == project["sequences"]["filepath"]


def metrics_row(backbone: str, run: str, label: str, supervision: str, seed: int, level: str,
                value: float) -> dict:
    return {"run": run, "supervision": supervision, "backbone": backbone, "seed": seed, "home": "Home1",
            "level": level, "label": label, "group": "method", "map": value}


def test_report_sets_the_mean_over_seeds_beside_the_paper(grid, tmp_path):
    cells = {
        "multitsf": [metrics_row("multitsf", "vicokd", "ViCoKD", "V_F", 0, "sequence", 80.0),
                     metrics_row("multitsf", "vicokd", "ViCoKD", "V_F", 1, "sequence", 84.0),
                     metrics_row("multitsf", "vicokd", "ViCoKD", "V_F", 1, "frame", 10.0)],
        "multiasl": [metrics_row("multiasl", "student", "Student", "V_S", 0, "sequence", 50.0)],
    }
    for backbone, rows in cells.items():
        (tmp_path / backbone / "08_reporting").mkdir(parents=True)
        pd.DataFrame(rows).to_csv(tmp_path / backbone / "08_reporting" / "model_metrics.csv", index=False)

    text = grid.report("test", tmp_path, None)

    table = pd.read_csv(tmp_path / "benchmark.csv").set_index(["backbone", "run", "supervision"])
    ours = table.loc[("multitsf", "vicokd", "V_F")]
    # vicokd/reporting/paper_results.csv: Home1 multitsf vicokd V_F 82.91, multiasl student V_S 55.91
    assert ours["Home1 ours"] == pytest.approx(82.0) and ours["Home1 n"] == 2
    assert ours["Home1 std"] == pytest.approx(8 ** 0.5)
    assert ours["Home1 ours − paper"] == pytest.approx(82.0 - 82.91)
    assert table.loc[("multiasl", "student", "V_S"), "Home1 ours − paper"] == pytest.approx(50.0 - 55.91)
    assert "mean difference -3.41 mAP, largest 5.91 mAP" in text
    assert "2 backbones, 3 models, seeds [0, 1]" in text
    assert "| multitsf | ViCoKD | V_F | 82.00 |" in text
    assert (tmp_path / "benchmark.md").read_text() == text
    assert len(pd.read_csv(tmp_path / "benchmark_metrics.csv")) == 4


def test_report_without_cells_names_the_folder(grid, tmp_path):
    with pytest.raises(SystemExit, match="model_metrics.csv: run a cell first"):
        grid.report("test", tmp_path, None)
