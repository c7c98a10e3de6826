"""Training jobs sized to the cores (vicokd.training.workers)."""
from training_helpers import make_settings

from vicokd.training.workers import fitted_to_cores


def test_training_settings_are_fitted_to_the_cores_loaders_first(monkeypatch):
    settings = make_settings(parallel_jobs=2, num_threads=2, num_workers=2)
    monkeypatch.setattr("vicokd.processes.usable_cores", lambda: 16)
    assert fitted_to_cores(settings) == settings  # 2 × (2 + 2) = 8 <= 16
    monkeypatch.setattr("vicokd.processes.usable_cores", lambda: 6)
    fitted = fitted_to_cores(settings)  # 3 cores per job: both threads, one loader
    assert (fitted.parallel_jobs, fitted.num_threads, fitted.num_workers) == (2, 2, 1)
    monkeypatch.setattr("vicokd.processes.usable_cores", lambda: 2)
    fitted = fitted_to_cores(settings)
    assert (fitted.parallel_jobs, fitted.num_threads, fitted.num_workers) == (2, 1, 0)
    assert fitted.model_dump(exclude={"parallel_jobs", "num_threads", "num_workers"}) == \
        settings.model_dump(exclude={"parallel_jobs", "num_threads", "num_workers"})
