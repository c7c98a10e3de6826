"""Which prediction tables reporting scores: every seed on disk, or those of ``reporting.seeds``."""
import pandas as pd

from project_parameters import load_parameters
from vicokd.pipelines.reporting.nodes import _figure4_models, collect_predictions
from vicokd.reporting.settings import ReportingSettings
from vicokd.training.run_names import dataset_name
from vicokd.training.run_table import RunSpec


def _outputs(runs: dict, seeds: list[int]) -> dict:
    """Empty partitions for every run, and the plain V_F student of Home1 at ``seeds``: predictions
    and histories of one model version per seed."""
    outputs = {}
    for name, run in runs.items():
        for supervision in RunSpec.model_validate(run).supervisions:
            for kind in ("predictions", "history"):
                outputs[f"{kind}__{dataset_name(name, kind, supervision)}"] = {}
    for seed in seeds:
        row = {"run": "student", "supervision": "V_F", "home": "Home1", "seed": seed,
               "model_version": f"v{seed}"}
        key = f"Home1/seed{seed}"
        outputs[f"predictions__{dataset_name('student', 'predictions', 'V_F')}"][key] = (
            lambda row=row: pd.DataFrame([row]))
        outputs[f"history__{dataset_name('student', 'history', 'V_F')}"][key] = (
            lambda row=row: pd.DataFrame([row]))
    return outputs


def _scored_seeds(chosen: list[int] | None) -> list[int]:
    parameters = load_parameters("test")
    reporting = ReportingSettings.model_validate({**parameters["reporting"], "seeds": chosen})
    loaded, _ = collect_predictions(parameters["runs"], ["Home1"], [0, 1, 2], reporting,
                                    **_outputs(parameters["runs"], [0, 1, 2]))
    return sorted(int(table["seed"].iloc[0]) for table in loaded.values())


def test_every_seed_on_disk_is_scored_unless_reporting_names_some():
    assert _scored_seeds(None) == [0, 1, 2]
    assert _scored_seeds([0, 2]) == [0, 2]
    assert _scored_seeds([5]) == []


def test_figure4_draws_the_first_reported_seed_of_each_home():
    def checkpoint(run: str, home: str, seed: int) -> dict:
        return {"metadata": {"run": run, "supervision": "V_F", "home": home, "seed": seed,
                             "label": run, "model_version": f"{run}-{home}-{seed}"}}

    def loader(run: str, home: str, seed: int):
        return lambda: checkpoint(run, home, seed)

    models = {f"{run}_model_V_F": {f"{home}/seed{seed}": loader(run, home, seed)
                                   for home in ("Home1", "Home2") for seed in (0, 1, 2)}
              for run in ("student", "vicokd")}
    # reporting.seeds = [1, 2]: seed 0 is on disk but not reported (its checkpoints are not checked)
    metrics = pd.DataFrame([{"run": run, "supervision": "V_F", "home": home, "seed": seed,
                             "model_version": f"{run}-{home}-{seed}"}
                            for run in ("student", "vicokd") for home in ("Home1", "Home2")
                            for seed in (1, 2)])
    shown = _figure4_models(models, metrics)
    assert {home: {c["metadata"]["seed"] for c in by_label.values()} for home, by_label in shown.items()} == {
        "Home1": {1}, "Home2": {1}}
