"""A tiny two-home dataset in the catalog formats of docs/architecture.md, the test-env parameters,
and a catalog from the project's own catalog files with every path moved under a temporary folder."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset

from vicokd.data.annotations import CLASSES
from vicokd.settings import CONFIG_LOADER_ARGS

ROOT = Path(__file__).resolve().parents[3]
V, H, W, L = 5, 32, 32, 40
HOMES = ("Home1", "Home2")
SPLIT_SIZES = {"train": 3, "val": 2, "test": 2}


def synthetic_inputs(seed: int = 0) -> dict[str, Any]:
    """``sequences, splits, frames, audio_features, frame_labels, visibility_masks,
    person_confidence`` for 2 homes × 7 sequences whose frame colour encodes the action."""
    rng = np.random.default_rng(seed)
    rows, split_rows = [], []
    stores: dict[str, dict[str, np.ndarray]] = {k: {} for k in (
        "frames", "audio_features", "frame_labels", "visibility_masks", "person_confidence")}
    for home in HOMES:
        index = 0
        for split, count in SPLIT_SIZES.items():
            for _ in range(count):
                sequence_id = f"{home}/01/{index:02d}-Part1"
                n_frames = int(rng.integers(6, 10))
                labels = np.zeros((n_frames, len(CLASSES)), np.uint8)
                first, second = index % len(CLASSES), (index + 5) % len(CLASSES)
                labels[: n_frames // 2, first] = 1
                labels[n_frames // 2:, second] = 1
                frames = rng.integers(0, 60, (V, n_frames, H, W, 3), dtype=np.uint8)
                frames[:, : n_frames // 2, :, :, first % 3] += 150
                stores["frames"][sequence_id] = frames
                stores["audio_features"][sequence_id] = rng.standard_normal(
                    (V, n_frames, L, 128)).astype(np.float16)
                stores["frame_labels"][sequence_id] = labels
                stores["visibility_masks"][sequence_id] = (rng.random((V, n_frames)) < 0.7).astype(np.uint8)
                stores["person_confidence"][sequence_id] = rng.random((V, n_frames)).astype(np.float32)
                rows.append({"sequence_id": sequence_id, "home": home, "n_frames": n_frames,
                             "labels": [CLASSES[first], CLASSES[second]]})
                split_rows.append({"sequence_id": sequence_id, "home": home, "split": split})
                index += 1
    return {"sequences": pd.DataFrame(rows), "splits": pd.DataFrame(split_rows), **stores}


def env_parameters(tmp_path: Path) -> dict[str, Any]:
    """The ``test`` environment's parameters, checkpoints under ``tmp_path``."""
    loader = OmegaConfigLoader(str(ROOT / "conf"), env="test", **CONFIG_LOADER_ARGS)
    params = loader["parameters"]
    params["training"]["checkpoint_dir"] = str(tmp_path / "data/06_models/runs")
    return params


#: ``data_root`` of the test environment (conf/test/globals.yml).
TEST_DATA_ROOT = "data/test/"


def _relocate(entry: Any, tmp_path: Path) -> Any:
    if isinstance(entry, dict):
        return {k: _relocate(v, tmp_path) for k, v in entry.items()}
    if isinstance(entry, str) and entry.startswith(TEST_DATA_ROOT):
        # the test environment's tree (globals data_root) moves to tmp_path/data
        return str(tmp_path / "data" / entry[len(TEST_DATA_ROOT):])
    return entry


def project_catalog(tmp_path: Path, inputs: dict[str, Any], params: dict[str, Any]) -> DataCatalog:
    """The teacher and distill catalog files (paths under ``tmp_path``), the inputs in memory and
    the parameters as ``params:`` datasets."""
    loader = OmegaConfigLoader(str(ROOT / "conf"), env="test", **CONFIG_LOADER_ARGS)
    config = {name: entry for name, entry in loader["catalog"].items()
              if name in _own_entries()}
    catalog = DataCatalog.from_config(_relocate(config, tmp_path))
    for name, data in inputs.items():
        catalog[name] = MemoryDataset(data, copy_mode="assign")
    for key, value in _flatten_params(params).items():
        catalog[f"params:{key}"] = MemoryDataset(value, copy_mode="deepcopy")
    return catalog


def _own_entries() -> set[str]:
    import yaml

    names: set[str] = set()
    for file in ("catalog_teacher.yml", "catalog_distill.yml"):
        names |= set(yaml.safe_load((ROOT / "conf/base" / file).read_text()))
    return names


def _flatten_params(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        out[name] = value
        if isinstance(value, dict):
            out.update(_flatten_params(value, f"{name}."))
    return out
