"""Kedro project settings: OmegaConf config loader with environments base/local/test/paper."""
import os
from pathlib import Path

from kedro.config import OmegaConfigLoader
from omegaconf.resolvers import oc

from vicokd.tracking import disable_mlflow_telemetry

# Ultralytics, Hugging Face and MLflow (usage telemetry) never reach for the network; state lives under data/
_DATA = Path(__file__).resolve().parents[2] / "data"
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", str(_DATA / "ultralytics"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
disable_mlflow_telemetry()

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment overrides single keys (conf/test holds only what it shrinks), not whole blocks.
    "merge_strategy": {"parameters": "soft", "mlflow": "soft"},
    # conf/base/mlflow.yml reads MLFLOW_TRACKING_URI.
    "custom_resolvers": {"oc.env": oc.env},
    "config_patterns": {
        "catalog": ["catalog*", "catalog*/**", "**/catalog*"],
        "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
    },
}
