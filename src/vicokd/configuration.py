"""How the project reads its configuration (Kedro's extension points, set in ``settings.py``).

- :class:`ProjectConfigLoader` is Kedro's ``OmegaConfigLoader`` that also resolves the run table
  (each run's ``base`` chain merged, each row of ``runs`` and ``supervision_levels`` given its name),
  so every reader — nodes, kedro-viz, the pipeline registry — sees complete rows.
- :class:`ProjectContext` makes parameter errors point at their source: a typed block that fails
  Kedro's validation is reported with the configuration files that define it, and a top-level key
  that no pipeline reads (a typo, ``foo=1``) is an error rather than silently ignored. Kedro
  validates only ``params:`` inputs typed with a model; the context also validates, just as
  strictly, those typed with a plain type (``seed: int``, ``homes: list[str]``).
"""
from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, get_type_hints

import yaml
from kedro.config import OmegaConfigLoader
from kedro.framework.context import KedroContext
from kedro.framework.project import pipelines
from kedro.pipeline import Pipeline
from kedro.utils import find_kedro_project
from kedro.validation import ParameterValidationError, TypeExtractor
from omegaconf import OmegaConf
from pydantic import TypeAdapter, ValidationError

from vicokd.training.run_table import RunSpec, name_rows, resolve_run_table

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


#: What :func:`_lookup` returns for a key that is not there (``None`` is a value).
_ABSENT = object()


def _lookup(parameters: Any, key: str) -> Any:
    """The value at the dotted ``key`` of nested mappings, or ``_ABSENT``."""
    for part in key.split("."):
        if not isinstance(parameters, Mapping) or part not in parameters:
            return _ABSENT
        parameters = parameters[part]
    return parameters


def defined_in(files: Iterable[Path], runtime_params: Mapping[str, Any] | None, key: str) -> str:
    """``"defined in conf/base/x.yml, conf/test/x.yml"``: the ``files`` that set ``key`` (dotted for
    a nested one), and ``--params`` when ``runtime_params`` set it."""
    sources = [str(path) for path in files
               if _lookup(yaml.safe_load(path.read_text()), key) is not _ABSENT]
    if _lookup(runtime_params or {}, key) is not _ABSENT:
        sources.append("--params")
    return "defined in " + (", ".join(sources) if sources else "no configuration file")


def where_defined(loader: OmegaConfigLoader, key: str) -> str:
    """Where the parameter ``key`` that ``loader`` reads is set (see :func:`defined_in`)."""
    return defined_in(loader_parameter_files(loader), loader.runtime_params, key)


def read_parameter_keys(registered: Iterable) -> set[str]:
    """Top-level parameter keys that the nodes of ``registered`` pipelines read."""
    keys = set()
    for pipeline in registered:
        for name in pipeline.inputs() | {i for n in pipeline.nodes for i in n.inputs}:
            if name.startswith("params:"):
                keys.add(name[len("params:"):].split(".")[0])
    return keys


def hinted_parameters(node) -> Iterator[tuple[str, Any]]:
    """``(key, type hint)`` of each annotated ``params:`` input of ``node``, bound to the function's
    arguments as Kedro's validator binds them (in order, up to ``*args`` or ``**kwargs``)."""
    hints = get_type_hints(node.func)
    for dataset, argument in zip(node.inputs, inspect.signature(node.func).parameters.values()):
        if argument.kind in (argument.VAR_POSITIONAL, argument.VAR_KEYWORD):
            return
        if dataset.startswith("params:") and argument.name in hints:
            yield dataset[len("params:"):], hints[argument.name]


def plain_parameter_types(scope: Mapping[str, Pipeline]) -> dict[str, Any]:
    """``params:`` keys that the nodes of ``scope`` read with a plain type hint (``int``,
    ``list[str]``, ``str | None``, ...), which Kedro's validator passes unchecked; keys under a
    top-level key that Kedro validates with a model (``ingestion.homes`` under ``ingestion``) are
    left to the model."""
    modelled = {key.split(".")[0] for key in TypeExtractor(dict(scope)).extract_types_from_pipelines()}
    return {key: hint for pipeline in scope.values() for node in pipeline.nodes
            for key, hint in hinted_parameters(node) if key.split(".")[0] not in modelled}


def plain_type_errors(parameters: Mapping[str, Any], types: Mapping[str, Any]) -> dict[str, str]:
    """Pydantic's message for each key of ``types`` whose value in ``parameters`` is not strictly
    of its type (nothing is coerced: ``"10"`` is not an ``int``, ``"false"`` not a ``bool``)."""
    errors = {}
    for key, hint in types.items():
        value = _lookup(parameters, key)
        if value is _ABSENT:
            continue  # Kedro reports a missing input itself
        try:
            TypeAdapter(hint).validate_python(value, strict=True)
        except ValidationError as error:
            errors[key] = str(error)
    return errors


class ProjectContext(KedroContext):
    """Kedro's context with parameter errors that name the key and the file, and plain-typed
    ``params:`` inputs validated as strictly as the typed blocks."""

    def _get_validated_params(self) -> dict[str, Any]:
        raw = self.config_loader["parameters"]
        unknown = sorted(set(raw) - read_parameter_keys(pipelines.values()))
        if unknown:
            raise ParameterValidationError(
                "Unknown parameter(s), read by no pipeline:\n" + "\n".join(
                    f"- '{key}' ({where_defined(self.config_loader, key)})" for key in unknown))
        names = self._pipelines_to_validate  # the pipelines of the run (None: all), as Kedro scopes
        scope = dict(pipelines) if names is None else {name: pipelines[name] for name in names}
        plain = plain_type_errors(raw, plain_parameter_types(scope))
        try:
            validated = super()._get_validated_params()
            message, keys = "", []
        except ParameterValidationError as error:
            # a model may fail on any key of its block: every file that sets the block is listed
            message = str(error)
            keys = [key.split(".")[0]
                    for key in re.findall(r"^- Parameter '([^']+)'", message, re.MULTILINE)]
        if not (message or plain):
            return validated
        message = "\n".join([message or "Parameter validation failed:",
                             *(f"- Parameter '{key}': {error}" for key, error in plain.items())])
        sources = "\n".join(f"- '{key}' is {where_defined(self.config_loader, key)}"
                            for key in dict.fromkeys([*keys, *plain]))
        raise ParameterValidationError(f"{message}\n{sources}") from None


def run_table_parameters(env: str | None = None) -> dict[str, Any]:
    """The parameter files of the project around the working directory (base, ``local`` and ``env``),
    merged as Kedro merges them but without resolving interpolations, with the run table resolved
    and each row checked against :class:`RunSpec`: what the pipeline registry builds the pipelines
    from. A bad row raises ``ParameterValidationError`` naming the row and the files.

    Kedro's config loader is not used here: creating a second one re-registers OmegaConf's global
    ``globals`` resolver and would point the running session's catalog at another environment.
    """
    from vicokd.settings import CONFIG_LOADER_ARGS  # settings imports this module

    project = find_kedro_project(Path.cwd()) or Path.cwd()
    envs = [CONFIG_LOADER_ARGS["base_env"], env or CONFIG_LOADER_ARGS["default_run_env"]]
    files = parameter_files(project / "conf", envs, CONFIG_LOADER_ARGS["config_patterns"]["parameters"])
    parameters = OmegaConf.to_container(OmegaConf.merge(*map(OmegaConf.load, files)), resolve=False)
    try:
        parameters[RUNS] = resolve_run_table(parameters.get(RUNS, {}))
    except ValueError as error:  # it names the row
        raise run_table_error(f"Parameter '{RUNS}': {error}", files) from None
    for name, row in parameters[RUNS].items():
        try:
            RunSpec.model_validate(row)
        except ValidationError as error:
            raise run_table_error(f"Parameter '{RUNS}.{name}': {error}", files) from None
    return parameters


def run_table_error(problem: str, files: Iterable[Path]) -> ParameterValidationError:
    """The error for a bad run table, with the parameter ``files`` that set it."""
    return ParameterValidationError(
        f"Parameter validation failed:\n- {problem}\n- '{RUNS}' is {defined_in(files, None, RUNS)}")
