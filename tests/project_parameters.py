"""The project's parameters of an environment, merged over conf/base as a Kedro run reads them."""
from pathlib import Path

from vicokd.configuration import ProjectConfigLoader
from vicokd.data.description import DatasetDescription
from vicokd.settings import CONFIG_LOADER_ARGS

CONF = Path(__file__).resolve().parents[1] / "conf"


def load_parameters(env: str) -> dict:
    """Parameters of ``env`` (``base``, ``test``, ``paper``), run table resolved."""
    loader = ProjectConfigLoader(str(CONF), env=None if env == "base" else env, **CONFIG_LOADER_ARGS)
    return loader["parameters"]


def random_model_config(env: str = "test") -> dict:
    """``env``'s model block with both encoders randomly initialised and trainable (model tests
    need no pretrained folder)."""
    config = load_parameters(env)["model"]
    for encoder in ("visual_encoder", "audio_encoder"):
        config[encoder] = {**config[encoder], "pretrained": None, "trainable": True}
    return config


def multisensor_home() -> DatasetDescription:
    """The base environment's ``dataset`` block: MultiSensor-Home's 16 classes, 5 views, 2.5 FPS."""
    return DatasetDescription.model_validate(load_parameters("base")["dataset"])
