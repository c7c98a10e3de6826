"""Kedro project settings: the project's config loader (Kedro's, plus the run table) and context (with
parameter errors that name their file), environments base/local/test/paper."""
import os
import warnings
from pathlib import Path

from omegaconf.resolvers import oc

from vicokd.configuration import ProjectConfigLoader, ProjectContext
from vicokd.hooks import ReportArtifactHooks, RunTiming, ThreadsPerCore, TrainingProgressHooks
from vicokd.logs import readable_logs
from vicokd.tracking import disable_mlflow_telemetry

# Ultralytics, Hugging Face and MLflow's telemetry never reach for the network; state is in data/
_DATA = Path(__file__).resolve().parents[2] / "data"
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", str(_DATA / "ultralytics"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers' "Loading weights" bars
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
disable_mlflow_telemetry()
# Kedro has configured logging from conf/logging.yml: plain lines when the output is redirected
readable_logs()
# OmegaConf 2.4 deprecated register_new_resolver(), which Kedro 1.7 and kedro-mlflow 2.0 call for
# every config loader (custom_resolvers below included); nothing in this project can act on it.
warnings.filterwarnings("ignore", r"register_new_resolver\(\) is deprecated", UserWarning)

HOOKS = (TrainingProgressHooks(), ReportArtifactHooks(), RunTiming(), ThreadsPerCore())
CONTEXT_CLASS = ProjectContext
CONFIG_LOADER_CLASS = ProjectConfigLoader
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
