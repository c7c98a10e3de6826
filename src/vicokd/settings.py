"""Kedro project settings: the project's config loader (Kedro's, plus the run table) and context (with
parameter errors that name their file), environments base/local/test/paper."""
import os
from pathlib import Path

from vicokd.configuration import ProjectConfigLoader, ProjectContext

# Ultralytics and Hugging Face must never reach for the network; their state lives under data/.
_DATA = Path(__file__).resolve().parents[2] / "data"
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", str(_DATA / "ultralytics"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

CONTEXT_CLASS = ProjectContext
CONFIG_LOADER_CLASS = ProjectConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment overrides single keys (conf/test holds only what it shrinks), not whole blocks.
    "merge_strategy": {"parameters": "soft"},
    "config_patterns": {
        "catalog": ["catalog*", "catalog*/**", "**/catalog*"],
        "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
    },
}
