"""The project's logging: conf/logging.yml, plain lines when redirected, worker processes' records,
progress stages and the training stage's size."""
import io
import logging
import logging.config
import time
from pathlib import Path

import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset
from rich.console import Console
from rich.logging import RichHandler

from vicokd import progress
from vicokd.hooks import training_stage_size
from vicokd.logs import readable_logs, strip_terminal_codes
from vicokd.pipelines.training.pipeline import create_pipeline
from vicokd.processes import spawned_pool
from vicokd.training.loop import epoch_line, model_name
from vicokd.training.run_table import RunSpec

PROJECT = Path(__file__).resolve().parents[1]
#: A line longer than any terminal, with a path that rich would break in the middle.
LONG = "Saved " + "/".join(["data/06_models/runs/vicokd/V_S/Home1/seed0"] * 6) + " " + "x" * 200


@pytest.fixture
def restored_logging():
    """Every logger's handlers, level and propagation as they were before the test."""
    named = logging.Logger.manager.loggerDict.values()
    loggers = [logging.getLogger(), *(logger for logger in named
                                      if isinstance(logger, logging.Logger))]
    state = [(logger, list(logger.handlers), logger.level, logger.propagate) for logger in loggers]
    yield
    for logger, handlers, level, propagate in state:
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.handlers, logger.level, logger.propagate = handlers, level, propagate


def _project_logging(tmp_path: Path) -> dict:
    """conf/logging.yml, its log file moved under ``tmp_path``."""
    config = yaml.safe_load((PROJECT / "conf/logging.yml").read_text())
    config["handlers"]["file"]["filename"] = str(tmp_path / "vicokd.log")
    return config


def test_the_file_log_gets_plain_unwrapped_lines(tmp_path, restored_logging):
    logging.config.dictConfig(_project_logging(tmp_path))
    root = logging.getLogger()
    files = [h for h in root.handlers if isinstance(h, logging.FileHandler)]
    assert len(files) == 1 and not isinstance(files[0], RichHandler)
    logging.getLogger("vicokd.test").info(LONG)
    logging.getLogger("kedro.io.data_catalog").info("Loading data from frames")
    logging.getLogger("vicokd.test").warning("\x1b[33mcoloured\x1b[0m warning")
    readable_logs()  # what settings.py does after Kedro has configured logging
    logging.getLogger("vicokd.test").warning("\x1b[33mcoloured\x1b[0m warning")
    files[0].flush()
    lines = (tmp_path / "vicokd.log").read_text().splitlines()
    assert len(lines) == 3  # the catalog's message is below its logger's level
    assert lines[0].endswith(f"INFO    vicokd.test: {LONG}")
    assert lines[1].endswith("\x1b[33mcoloured\x1b[0m warning")  # before readable_logs
    assert lines[2].endswith("WARNING vicokd.test: coloured warning")


def test_the_log_files_folder_is_made_when_missing(tmp_path, restored_logging):
    config = _project_logging(tmp_path)
    config["handlers"]["file"]["filename"] = str(tmp_path / "logs" / "vicokd.log")
    logging.config.dictConfig(config)  # a project copy without logs/: the file opens lazily
    readable_logs()
    logging.getLogger("vicokd.test").warning("first line")
    assert (tmp_path / "logs" / "vicokd.log").read_text().endswith("vicokd.test: first line\n")


def test_a_rich_console_that_is_not_a_terminal_becomes_a_plain_one(restored_logging):
    stream = io.StringIO()
    root = logging.getLogger("vicokd.test.console")
    root.propagate = False
    rich = RichHandler(console=Console(file=stream, force_terminal=False))
    root.handlers = [rich]
    readable_logs(root)
    readable_logs(root)  # a second call changes nothing
    handler, = root.handlers
    assert type(handler) is logging.StreamHandler and handler.stream is stream
    assert handler.filters == [strip_terminal_codes]
    root.warning("\x1b[31m" + LONG + "\x1b[0m")
    line, = stream.getvalue().splitlines()  # one line, however long, without colour codes
    assert line.endswith(f" WARNING vicokd.test.console: {LONG}")


def test_a_rich_console_on_a_terminal_is_kept(restored_logging):
    root = logging.getLogger("vicokd.test.terminal")
    rich = RichHandler(console=Console(file=io.StringIO(), force_terminal=True))
    root.handlers = [rich]
    readable_logs(root)
    assert root.handlers == [rich]


def _wait_for(records, count: int, seconds: float = 10.0) -> None:
    """Records reach this process through a listener thread: wait until ``count`` have come."""
    deadline = time.monotonic() + seconds
    while len(records) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_worker_processes_log_through_this_process(caplog):
    name = "vicokd.test.worker"
    with caplog.at_level(logging.INFO, logger="vicokd"):
        with spawned_pool(1) as pool:
            pool.submit(logging.getLogger(name).debug, "below the level").result()
            pool.submit(logging.getLogger(name).info, "epoch %d of %s", 3, "Home1").result()
            pool.submit(logging.getLogger(name).warning, "careful").result()
        records = [r for r in caplog.records if r.name == name]
        _wait_for(records, 2)
        records = [r for r in caplog.records if r.name == name]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("INFO", "epoch 3 of Home1"), ("WARNING", "careful")]
    assert records[0].processName != "MainProcess"


def test_the_epoch_line_names_the_model_its_losses_and_validation_map():
    row = {"epoch": 3, "lr": 1e-3, "seconds": 2.14, "data_wait_share": 0.031, "loss": 0.41234,
           "loss.frame": 0.2, "loss.view_consistency": 0.01, "val_map": 40.104, "val_seq_map": 61.2,
           "test_seq_map": 99.0}
    name = model_name(Path("data/06_models/runs/vicokd/V_S/Home1/seed0"), "data/06_models/runs")
    assert name == "vicokd/V_S/Home1/seed0"
    assert epoch_line(name, row, 15, "val_seq_map", best_epoch=2) == (
        "vicokd/V_S/Home1/seed0 epoch 3/15: loss 0.4123 (frame 0.2000, view_consistency 0.0100), "
        "val mAP sequence 61.20 frame 40.10, best epoch 2 (val_seq_map), 2.1 s, data wait 3 %")
    pretraining = {"epoch": 1, "seconds": 1.0, "data_wait_share": 0.0, "loss": 0.5, "val_map": 4.93}
    assert ", val mAP frame 4.93, best epoch 1 (val_map)," in epoch_line(
        "pretraining/visual", pretraining, 40, "val_map", best_epoch=1)
    assert model_name(Path("/elsewhere/run"), "data/06_models/runs") == "/elsewhere/run"


def test_a_stage_logs_each_item_with_the_count_and_the_time_left(caplog, monkeypatch):
    clock = iter([100.0, 160.0, 400.0])  # opened, then two items done
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    with (caplog.at_level(logging.INFO, logger="vicokd.progress"),
          progress.stage("training", 5, "model", enabled=False, log_items=True) as stage):
        stage.advance("teacher/AV_F/Home1/seed0")
        stage.advance("teacher/AV_F/Home2/seed0")
    assert [r.getMessage() for r in caplog.records] == [
        # 60 s for one model: 4 left take 240 s
        "training: 1/5 models done (teacher/AV_F/Home1/seed0), 1.0 min so far, about 4.0 min left",
        # 300 s for two: 3 left take 450 s
        "training: 2/5 models done (teacher/AV_F/Home2/seed0), 5.0 min so far, about 7.5 min left",
    ]


def test_a_planned_stage_is_one_stage_across_nodes():
    progress.plan_stage("training", 6, "model", enabled=False)
    try:
        with progress.stage("training", 2, "model") as first:
            first.advance()
        with progress.stage("training", 4, "model") as second:
            second.advance(count=2)
        assert second is first and (first.done, first.total) == (3, 6)
    finally:
        progress.close_stage("training")
    with progress.stage("training", 2, "model", enabled=False) as own:
        assert own is not first and own.total == 2


def test_the_training_stage_counts_every_model_of_the_pipeline():
    rows = {
        "teacher": {"name": "teacher", "group": "teacher", "label": "Teacher",
                    "supervisions": ["AV_F"]},
        "student": {"name": "student", "group": "method", "label": "Student",
                    "supervisions": ["V_F", "V_S"]},
        "ablation": {"name": "ablation", "group": "ablation", "label": "Ablation",
                     "supervisions": ["V_S"], "homes": ["Home1"]},
    }
    runs = {name: RunSpec.model_validate(row) for name, row in rows.items()}
    pipeline = create_pipeline(runs, baseline="student")
    catalog = DataCatalog({"params:ingestion.homes": MemoryDataset(["Home1", "Home2"]),
                           "params:seeds": MemoryDataset([0, 1, 2]),
                           **{f"params:runs.{name}": MemoryDataset(row)
                              for name, row in rows.items()}})
    # teacher: 2 homes × 3 seeds; student: 2 levels × 2 homes × 3 seeds; ablation: 1 home × 3 seeds
    assert training_stage_size(pipeline, catalog) == 6 + 12 + 3
    assert training_stage_size(pipeline.only_nodes_with_tags("ablation"), catalog) == 3
