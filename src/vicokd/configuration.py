"""How the project reads its configuration (Kedro's extension points, set in ``settings.py``).

- :class:`ProjectConfigLoader` is Kedro's ``OmegaConfigLoader`` whose ``parameters`` (``--params``
  applied) are read once per loader and hold the validated run table: each row's ``base`` chain
  merged, each row a :class:`~vicokd.training.run_table.RunSpec` checked against the other rows and
  the other parameters (:func:`~vicokd.training.run_table.validate_run_table`), each row of
  ``supervision_levels`` given its name. Every reader (the pipeline registry, Kedro's validation,
  the nodes, kedro-viz) sees these rows; a bad row stops the run before any node, naming its key and
  the files that set it.
- :class:`ProjectContext` builds the project's pipelines from its own parameters: Kedro's registry
  takes no argument, so each context, when created (by ``kedro run``, kedro-viz, ``kedro ipython``
  or a session's ``load_context()``), becomes the one the registry reads (:func:`context_parameters`)
  and drops the pipelines built from another. Its parameter errors point at their source: a typed
  block that fails Kedro's validation is reported with the configuration files that define it, and
  a top-level key that no pipeline reads (a typo, ``foo=1``) is an error rather than silently
  ignored. Kedro validates only ``params:`` inputs typed with a model; the context also validates,
  just as strictly, those typed with a plain type (``seed: int``, ``homes: list[str]``), and hands
  the nodes a list written on one line (``seeds=3-5``, ``vicokd.parameters``) as the list it is.
"""
from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, get_type_hints

import yaml
from kedro.config import OmegaConfigLoader
from kedro.framework.context import KedroContext
from kedro.framework.project import pipelines
from kedro.pipeline import Pipeline
from kedro.validation import ParameterValidationError, TypeExtractor
from pydantic import TypeAdapter, ValidationError

from vicokd.parameters import one_line_list
from vicokd.training.run_table import RunTableError, name_rows, validate_run_table

PARAMETERS = "parameters"
#: Parameter blocks that are named tables (each row learns its key as ``name``).
RUNS, SUPERVISION_LEVELS = "runs", "supervision_levels"


class ProjectConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` whose ``parameters`` are read once and hold the validated run table."""

    def __getitem__(self, key: str) -> dict[str, Any]:
        if key != PARAMETERS or key in self:  # a value set explicitly is Kedro's to return
            return super().__getitem__(key)
        return copy.deepcopy(self._parameters)  # each reader gets its own, as Kedro's loader gives

    @cached_property
    def _parameters(self) -> dict[str, Any]:
        parameters = super().__getitem__(PARAMETERS)
        levels = parameters.get(SUPERVISION_LEVELS) or {}
        if SUPERVISION_LEVELS in parameters:
            parameters[SUPERVISION_LEVELS] = name_rows(levels)
        if RUNS in parameters:
            try:
                parameters[RUNS] = validate_run_table(
                    parameters[RUNS], levels, parameters.get("training") or {},
                    parameters.get("baseline"))
            except RunTableError as error:
                raise validation_error(
                    self, [f"- Parameter '{key}': {problem}" for key, problem in error.problems.items()],
                    map(_row_key, error.problems)) from None
        return parameters


def _row_key(key: str) -> str:
    """The run-table row a problem's ``key`` belongs to (``runs.teacher`` of
    ``runs.teacher.training.epochs``), or the key itself outside the table."""
    return ".".join(key.split(".")[:2]) if key.startswith(f"{RUNS}.") else key


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
                           loader.config_patterns[PARAMETERS])


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


def validation_error(loader: OmegaConfigLoader, problems: Iterable[str],
                     keys: Iterable[str]) -> ParameterValidationError:
    """Kedro's error for ``problems`` (one ``- Parameter '<key>': ...`` line each), followed by
    where each of ``keys`` is set."""
    sources = [f"- '{key}' is {where_defined(loader, key)}" for key in dict.fromkeys(keys)]
    return ParameterValidationError("\n".join(["Parameter validation failed:", *problems, *sources]))


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


def plain_typed_values(parameters: Mapping[str, Any],
                       types: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The value of each key of ``types`` in ``parameters`` strictly of its type (nothing is
    coerced: ``"10"`` is not an ``int``, ``"false"`` not a ``bool``; a list may be written on one
    line, ``vicokd.parameters``), and pydantic's message for each key whose value is not."""
    values, errors = {}, {}
    for key, hint in types.items():
        value = _lookup(parameters, key)
        if value is _ABSENT:
            continue  # Kedro reports a missing input itself
        try:
            values[key] = TypeAdapter(hint).validate_python(one_line_list(value, hint), strict=True)
        except (ValidationError, ValueError) as error:
            errors[key] = str(error)
    return values, errors


def _assign(parameters: dict[str, Any], key: str, value: Any) -> None:
    """Set the dotted ``key`` of nested dicts ``parameters`` to ``value``."""
    *blocks, last = key.split(".")
    for block in blocks:
        parameters = parameters[block]
    parameters[last] = value


class ProjectContext(KedroContext):
    """Kedro's context whose parameters define the project's pipelines, with parameter errors that
    name the key and the file, and plain-typed ``params:`` inputs validated as strictly as the
    typed blocks."""

    #: The context created last in this process: the pipeline registry builds from its parameters.
    latest: ClassVar[ProjectContext | None] = None

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        ProjectContext.latest = self
        pipelines.configure(f"{self._package_name}.pipeline_registry")  # drops those built before

    def _get_validated_params(self) -> dict[str, Any]:
        raw = self.config_loader[PARAMETERS]
        unknown = sorted(set(raw) - read_parameter_keys(pipelines.values()))
        if unknown:
            raise ParameterValidationError(
                "Unknown parameter(s), read by no pipeline:\n" + "\n".join(
                    f"- '{key}' ({where_defined(self.config_loader, key)})" for key in unknown))
        names = self._pipelines_to_validate  # the pipelines of the run (None: all), as Kedro scopes
        scope = dict(pipelines) if names is None else {name: pipelines[name] for name in names}
        values, plain = plain_typed_values(raw, plain_parameter_types(scope))
        try:
            validated = super()._get_validated_params()
            problems, keys = [], []
        except ParameterValidationError as error:
            # a model may fail on any key of its block: every file that sets the block is listed
            problems = str(error).splitlines()[1:]  # below Kedro's "Parameter validation failed:"
            keys = [key.split(".")[0]
                    for key in re.findall(r"^- Parameter '([^']+)'", str(error), re.MULTILINE)]
        if not (problems or plain):
            for key, value in values.items():
                _assign(validated, key, value)
            return validated
        raise validation_error(
            self.config_loader,
            [*problems, *(f"- Parameter '{key}': {error}" for key, error in plain.items())],
            [*keys, *plain]) from None


def context_parameters(project_path: str | Path) -> dict[str, Any] | None:
    """The parameters of the context created last in this process, when it is one of the project at
    ``project_path`` (None otherwise)."""
    context = ProjectContext.latest
    if context is None or context.project_path != Path(project_path).resolve():
        return None
    return context.config_loader[PARAMETERS]
