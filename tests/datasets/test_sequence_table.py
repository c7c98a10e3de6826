"""The sequences table commits its array stores: readers pair a table only with its own arrays."""
import multiprocessing
import os
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError

from vicokd.datasets import ArrayStoreDataset, SequenceTableDataset, StampedArrays
from vicokd.datasets.array_store import generations, open_store
from vicokd.datasets.ingestion_stamp import (
    IngestionMismatchError,
    check_same_ingestion,
    new_ingestion_id,
    stamp_table,
)
from vicokd.datasets.sequence_table import CommittedIngestionDataset

STORES = ("frames", "frame_labels")


def catalog(folder: Path) -> dict:
    table = str(folder / "sequences.parquet")
    return {
        "sequences": SequenceTableDataset(table, stores=[str(folder / s) for s in STORES]),
        **{name: ArrayStoreDataset(str(folder / name), table=table) for name in STORES},
    }


def ingest(datasets: dict, n_frames: int, fail_at: str | None = None) -> str:
    """Save what one ingestion run writes (stores first, the table last); ``fail_at`` raises
    instead of saving that dataset, as a run stopped there would."""
    ingestion_id = new_ingestion_id()
    outputs = {
        "frames": StampedArrays({"s1": np.full(n_frames, n_frames)}, ingestion_id),
        "frame_labels": StampedArrays({"s1": np.full((n_frames, 2), n_frames)}, ingestion_id),
        "sequences": stamp_table(
            pd.DataFrame({"sequence_id": ["s1"], "n_frames": [n_frames], "labels": [["Eat"]]}),
            ingestion_id,
        ),
    }
    for name, data in outputs.items():
        if name == fail_at:
            raise RuntimeError(f"stopped before saving {name}")
        datasets[name].save(data)
    return ingestion_id


def load_all(datasets: dict) -> tuple[pd.DataFrame, dict]:
    return datasets["sequences"].load(), {name: datasets[name].load() for name in STORES}


def test_table_round_trip_keeps_its_ingestion_id_and_columns(tmp_path):
    datasets = catalog(tmp_path)
    first = ingest(datasets, 4)
    table, stores = load_all(datasets)
    assert table.attrs == {"ingestion_id": first}
    assert table["n_frames"].tolist() == [4] and list(table["labels"].iloc[0]) == ["Eat"]
    assert all(store.ingestion_id == first for store in stores.values())
    assert stores["frames"]["s1"].tolist() == [4] * 4
    check_same_ingestion(table, **stores)


def test_saving_the_committed_table_again_keeps_its_bytes_and_a_new_report_rewrites_it(tmp_path):
    """A reused ingestion saves the table it read back: the file (which reporting fingerprints by
    content) stays byte for byte; a table of the same id with another report is written."""
    table_file = tmp_path / "sequences.parquet"
    dataset = SequenceTableDataset(str(table_file))
    ingestion_id = new_ingestion_id()
    fresh = stamp_table(pd.DataFrame({"sequence_id": ["s1", "s2"], "n_frames": [4, 6]}),
                        ingestion_id, inputs={"files": {"a.mp4": "1f"}}, report={"seconds": 2.5})
    dataset.save(fresh)
    written, status = table_file.read_bytes(), table_file.stat()
    committed = CommittedIngestionDataset(str(table_file)).load().table  # as ingestion reads it
    dataset.save(committed)
    assert table_file.read_bytes() == written and table_file.stat().st_mtime_ns == status.st_mtime_ns
    dataset.save(stamp_table(fresh.copy(), ingestion_id, inputs={"files": {"a.mp4": "1f"}},
                             report={"seconds": 3.0}))
    assert table_file.read_bytes() != written
    assert CommittedIngestionDataset(str(table_file)).load().report == {"seconds": 3.0}


@pytest.mark.parametrize("fail_at", ["frame_labels", "sequences"])
def test_a_run_stopped_between_saves_leaves_readers_on_the_previous_run(tmp_path, fail_at):
    datasets = catalog(tmp_path)
    first = ingest(datasets, 4)
    with pytest.raises(RuntimeError, match="stopped"):
        ingest(datasets, 7, fail_at=fail_at)  # frames (and maybe labels) of the new run are saved
    assert len(generations(tmp_path / "frames")) == 2
    table, stores = load_all(datasets)
    assert table.attrs["ingestion_id"] == first and table["n_frames"].tolist() == [4]
    assert stores["frames"]["s1"].shape == (4,) and stores["frame_labels"]["s1"].shape == (4, 2)
    assert {store.ingestion_id for store in stores.values()} == {first}


def test_a_commit_deletes_older_generations_and_leftovers_of_failed_runs(tmp_path):
    datasets = catalog(tmp_path)
    ingest(datasets, 4)
    with pytest.raises(RuntimeError):
        ingest(datasets, 5, fail_at="sequences")
    third = ingest(datasets, 6)
    for name in STORES:
        assert list(generations(tmp_path / name).values()) == [third]
    assert load_all(datasets)[1]["frames"]["s1"].shape == (6,)


def test_a_table_and_stores_of_different_runs_are_refused(tmp_path):
    datasets = catalog(tmp_path)
    first = ingest(datasets, 4)
    other = new_ingestion_id()
    # a table from elsewhere (a backup, a copy) put beside these stores
    SequenceTableDataset(str(tmp_path / "sequences.parquet")).save(
        stamp_table(pd.DataFrame({"sequence_id": ["s1"], "n_frames": [9]}), other)
    )
    with pytest.raises(IngestionMismatchError) as error:
        datasets["frames"].load()
    message = str(error.value)
    assert str(tmp_path / "frames") in message and other in message and first in message
    assert "Re-run the ingestion pipeline" in message
    assert not datasets["frames"].exists()


def test_the_node_check_refuses_stores_of_another_run(tmp_path):
    datasets = catalog(tmp_path)
    ingest(datasets, 4)
    stores = load_all(datasets)[1]
    stale = stamp_table(pd.DataFrame({"sequence_id": ["s1"]}), new_ingestion_id())
    with pytest.raises(IngestionMismatchError, match="frame_labels .* comes from ingestion"):
        check_same_ingestion(stale, frame_labels=stores["frame_labels"])
    check_same_ingestion(pd.DataFrame({"sequence_id": ["s1"]}), frames=stores["frames"])  # unstamped


def test_without_a_committed_table_the_store_is_not_readable(tmp_path):
    datasets = catalog(tmp_path)
    with pytest.raises(RuntimeError):
        ingest(datasets, 4, fail_at="sequences")
    with pytest.raises(IngestionMismatchError, match="sequences.parquet does not exist"):
        datasets["frames"].load()
    pd.DataFrame({"sequence_id": ["s1"]}).to_parquet(tmp_path / "sequences.parquet")
    with pytest.raises(IngestionMismatchError, match="carries no ingestion id"):
        datasets["frames"].load()


def test_saves_need_the_stamp(tmp_path):
    datasets = catalog(tmp_path)
    with pytest.raises(DatasetError, match="carries no ingestion id"):
        datasets["sequences"].save(pd.DataFrame({"sequence_id": ["s1"]}))
    with pytest.raises(DatasetError, match="save StampedArrays"):
        datasets["frames"].save({"s1": np.zeros(1)})
    assert not (tmp_path / "sequences.parquet").exists()


def test_open_store_resolves_the_generation_of_a_given_table(tmp_path):
    datasets = catalog(tmp_path)
    first = ingest(datasets, 4)
    assert open_store(tmp_path / "frames", first)["s1"].shape == (4,)
    with pytest.raises(IngestionMismatchError, match="holds no arrays of ingestion nope"):
        open_store(tmp_path / "frames", "nope")


def _save_until_killed(store: str, table: str, ready: str) -> None:
    def stall():
        Path(ready).touch()
        time.sleep(60)

    ArrayStoreDataset(store, table=table).save(
        StampedArrays({"s1": np.zeros(3), "s2": stall}, new_ingestion_id())
    )


def test_a_save_killed_midway_leaves_the_committed_arrays_and_is_swept_next_time(tmp_path):
    datasets = catalog(tmp_path)
    first = ingest(datasets, 4)
    ready = tmp_path / "ready"
    child = multiprocessing.get_context("fork").Process(
        target=_save_until_killed,
        args=(str(tmp_path / "frames"), str(tmp_path / "sequences.parquet"), str(ready)),
    )
    child.start()
    while not ready.exists() and child.is_alive():
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)  # kill -9 in the middle of writing the store
    child.join()
    leftovers = [p.name for p in (tmp_path / "frames").iterdir() if p.name.startswith(".")]
    assert len(leftovers) == 1 and f".{child.pid}." in leftovers[0]
    assert datasets["frames"].load().ingestion_id == first
    ingest(datasets, 5)
    assert not [p for p in (tmp_path / "frames").iterdir() if p.name.startswith(".")]
