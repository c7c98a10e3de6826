"""The project's parameters of an environment, merged over conf/base as a Kedro run reads them."""
from pathlib import Path

from vicokd.configuration import ProjectConfigLoader
from vicokd.settings import CONFIG_LOADER_ARGS

CONF = Path(__file__).resolve().parents[1] / "conf"


def load_parameters(env: str) -> dict:
    """Parameters of ``env`` (``base``, ``test``, ``paper``), run table resolved."""
    loader = ProjectConfigLoader(str(CONF), env=None if env == "base" else env, **CONFIG_LOADER_ARGS)
    return loader["parameters"]
