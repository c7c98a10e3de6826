"""How the project reads its configuration (Kedro's extension points, set in ``settings.py``).

- :class:`ProjectConfigLoader` is Kedro's ``OmegaConfigLoader`` that also resolves the run table
  (each run's ``base`` chain merged, each row of ``runs`` and ``supervision_levels`` given its name),
  so every reader — nodes, kedro-viz, the pipeline registry — sees complete rows.
- :class:`ProjectContext` makes parameter errors point at their source: a typed block that fails
  Kedro's validation is reported with the configuration files that define it, and a top-level key
  that no pipeline reads (a typo, ``foo=1``) is an error rather than silently ignored.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from kedro.config import OmegaConfigLoader
from kedro.framework.context import KedroContext
from kedro.framework.project import pipelines
from kedro.utils import find_kedro_project
from kedro.validation import ParameterValidationError
from omegaconf import OmegaConf

from vicokd.training.run_table import name_rows, resolve_run_table

#: Parameter blocks that are named tables (each row learns its key as ``name``).
RUNS, SUPERVISION_LEVELS = "runs", "supervision_levels"


class ProjectConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` whose ``parameters`` hold the resolved run table."""

    def __getitem__(self, key: str) -> dict[str, Any]:
        config = super().__getitem__(key)
        if key != "parameters":
            return config
        try:
            if RUNS in config:
                config[RUNS] = resolve_run_table(config[RUNS])
            if SUPERVISION_LEVELS in config:
                config[SUPERVISION_LEVELS] = name_rows(config[SUPERVISION_LEVELS])
        except ValueError as error:
            raise ParameterValidationError(
                f"{error} ({where_defined(self, RUNS)})") from None
        return config


def parameter_files(conf_source: str | Path, envs: Iterable[str], patterns: Iterable[str]) -> list[Path]:
    """The parameter files a Kedro config loader reads from ``envs`` of ``conf_source`` (in order)."""
    files: dict[Path, None] = {}
    for env in dict.fromkeys(envs):
        for pattern in patterns:
            for path in sorted((Path(conf_source) / env).glob(pattern)):
                if path.is_file() and path.suffix in (".yml", ".yaml", ".json"):
                    files[path] = None
    return list(files)


def loader_parameter_files(loader: OmegaConfigLoader) -> list[Path]:
    """The parameter files ``loader`` reads, base environment first."""
    return parameter_files(loader.conf_source, [loader.base_env, loader.env or loader.default_run_env],
                           loader.config_patterns["parameters"])


def where_defined(loader: OmegaConfigLoader, key: str) -> str:
    """``"defined in conf/base/x.yml, conf/test/x.yml"`` for a top-level parameter key (and the
    ``--params`` of the run when they set it)."""
    sources = [str(path) for path in loader_parameter_files(loader)
               if key in (yaml.safe_load(path.read_text()) or {})]
    if key in (loader.runtime_params or {}):
        sources.append("--params")
    return "defined in " + (", ".join(sources) if sources else "no configuration file")


def read_parameter_keys(registered: Iterable) -> set[str]:
    """Top-level parameter keys that the nodes of ``registered`` pipelines read."""
    keys = set()
    for pipeline in registered:
        for name in pipeline.inputs() | {i for n in pipeline.nodes for i in n.inputs}:
            if name.startswith("params:"):
                keys.add(name[len("params:"):].split(".")[0])
    return keys


class ProjectContext(KedroContext):
    """Kedro's context with parameter errors that name the key and the file."""

    def _get_validated_params(self) -> dict[str, Any]:
        raw = self.config_loader["parameters"]
        unknown = sorted(set(raw) - read_parameter_keys(pipelines.values()))
        if unknown:
            raise ParameterValidationError(
                "Unknown parameter(s), read by no pipeline:\n" + "\n".join(
                    f"- '{key}' ({where_defined(self.config_loader, key)})" for key in unknown))
        try:
            return super()._get_validated_params()
        except ParameterValidationError as error:
            keys = dict.fromkeys(re.findall(r"Parameter '([^'.]+)", str(error)))
            sources = "\n".join(f"- '{key}' is {where_defined(self.config_loader, key)}"
                                for key in keys)
            raise ParameterValidationError(f"{error}\n{sources}") from None


def run_table_parameters(env: str | None = None) -> dict[str, Any]:
    """The parameter files of the project around the working directory (base, ``local`` and ``env``),
    merged as Kedro merges them but without resolving interpolations, with the run table resolved:
    what the pipeline registry builds the pipelines from.

    Kedro's config loader is not used here: creating a second one re-registers OmegaConf's global
    ``globals`` resolver and would point the running session's catalog at another environment.
    """
    from vicokd.settings import CONFIG_LOADER_ARGS  # settings imports this module

    project = find_kedro_project(Path.cwd()) or Path.cwd()
    envs = [CONFIG_LOADER_ARGS["base_env"], env or CONFIG_LOADER_ARGS["default_run_env"]]
    files = parameter_files(project / "conf", envs, CONFIG_LOADER_ARGS["config_patterns"]["parameters"])
    parameters = OmegaConf.to_container(OmegaConf.merge(*map(OmegaConf.load, files)), resolve=False)
    parameters[RUNS] = resolve_run_table(parameters.get(RUNS, {}))
    return parameters
