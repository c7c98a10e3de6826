"""The run table: every model the project trains, one row per run (``conf/base/parameters_runs.yml``).

A run names its group (teacher, comparison method or ablation), its display label, the supervision
levels it trains at, the homes it is trained in (all by default), the teacher it distils from,
overrides of the ``training`` block and its recipe.
A row may start from another with ``base: <run>`` and change only what differs (an ablation is
``base: vicokd`` plus its switches). :func:`resolve_run_table` merges those chains and gives each row
its name, so a row is complete on its own wherever it is read; :func:`validate_run_table` checks the
rows against each other and against the rest of the parameters, once, before any model trains.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from vicokd.parameters import Parameters
from vicokd.training.recipes import Recipe
from vicokd.training.settings import TrainingSettings

RunGroup = Literal["teacher", "method", "ablation"]


class RunSpec(Parameters):
    """One resolved row of the run table: a model trained at each of ``supervisions``, for every
    seed and every home of ``homes`` (default: all evaluation homes)."""

    name: str
    group: RunGroup
    label: str  # display name in reports
    base: str | None = None  # the run this row was written as an override of (its Δ reference)
    teacher: str | None = None  # the teacher run it distils from, or is compared against
    supervisions: list[str] = Field(min_length=1)  # keys of `supervision_levels`
    homes: list[str] | None = Field(default=None, min_length=1)  # null: all of `ingestion.homes`
    training: dict[str, Any] = Field(default_factory=dict)  # overrides of the `training` block
    recipe: Recipe = Recipe()

    @field_validator("training")
    @classmethod
    def _known_training_keys(cls, overrides: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(overrides) - set(TrainingSettings.model_fields))
        if unknown:
            raise ValueError(f"unknown training key(s) {unknown}")
        return overrides

    @model_validator(mode="after")
    def _teacher_when_distilling(self) -> RunSpec:
        if self.recipe.needs_teacher and self.teacher is None:
            raise ValueError(f"run {self.name!r} distils (feature or logit terms) but names no teacher")
        return self

    def trained_homes(self, homes: Iterable[str]) -> list[str]:
        """The homes of ``homes`` (``ingestion.homes``) this run is trained in."""
        return [home for home in homes if self.homes is None or home in self.homes]

    @property
    def distils(self) -> bool:
        """Whether the run reads its teacher's outputs during training."""
        return self.recipe.needs_teacher


class RunTableError(ValueError):
    """The problems of a run table, ``{key: problem}``. A key is ``runs.<row>`` or a key below it,
    named at the row that writes the faulty value (a row that inherits it through ``base`` is not
    named again), or ``baseline``."""

    def __init__(self, problems: Mapping[str, str]):
        super().__init__("\n".join(f"{key}: {problem}" for key, problem in problems.items()))
        self.problems = dict(problems)


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` on top: mappings merge key by key, anything else (null included)
    replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def resolve_run_table(runs: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each row with its ``base`` chain merged under it and its ``name`` set (plain dicts, in table
    order). Raises :class:`RunTableError` naming the row for an unknown base or a cycle."""
    resolved: dict[str, dict[str, Any]] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> dict[str, Any]:
        if name in resolved:
            return resolved[name]
        row = dict(runs[name] or {})
        base = row.get("base")
        if base is not None:
            if base not in runs:
                raise RunTableError({f"runs.{name}": f"base {base!r} is not a run of the table"})
            if base in chain:
                raise RunTableError(
                    {f"runs.{name}": f"base chain {' -> '.join((*chain, base))} is a cycle"})
            row = _deep_merge({k: v for k, v in resolve(base, (*chain, base)).items()
                               if k not in ("name", "base")}, row)
        resolved[name] = {**row, "name": name}
        return resolved[name]

    for name in runs:
        resolve(name, (name,))
    return {name: resolved[name] for name in runs}


def validate_run_table(runs: Mapping[str, Mapping[str, Any]], supervision_levels: Iterable[str],
                       training: Mapping[str, Any], baseline: str | None) -> dict[str, RunSpec]:
    """The rows of ``runs`` (as written: ``base`` chains unresolved), resolved and validated.

    Beyond each row's own fields: its supervision levels are keys of ``supervision_levels``, the
    teacher it names is a run of group ``teacher`` (with one supervision level when the row
    distils), its ``training`` overrides give valid settings over ``training`` (checked only when
    ``training`` itself is valid: the block's own errors are its validator's to report), and
    ``baseline`` is a run of the table. Raises :class:`RunTableError` with every problem.
    """
    resolved = resolve_run_table(runs)
    levels = set(supervision_levels)
    try:
        settings = TrainingSettings.model_validate(training)
    except ValidationError:
        settings = None
    problems: dict[str, str] = {}

    def report(row: str, path: tuple[str | int, ...], problem: str) -> None:
        problems.setdefault(_written_at(runs, row, path), problem)

    validated = {}
    for name, row in resolved.items():
        try:
            run = validated[name] = RunSpec.model_validate(row)
        except ValidationError as error:
            for item in error.errors():
                report(name, item["loc"], _pydantic_problem(item))
            continue
        unknown = [level for level in run.supervisions if level not in levels]
        if unknown:
            report(name, ("supervisions",), f"unknown supervision level(s) {unknown}; "
                                            f"supervision_levels has {sorted(levels)}")
        if run.teacher is not None:
            teacher = resolved.get(run.teacher) or {}
            if teacher.get("group") != "teacher" or (
                    run.distils and len(teacher.get("supervisions") or []) != 1):
                report(name, ("teacher",), f"{run.teacher!r} is not a run of group 'teacher'"
                                           + (" with one supervision level" if run.distils else ""))
        if settings is not None:
            try:
                settings.with_overrides(run.training)
            except ValidationError as error:
                for item in error.errors():
                    report(name, ("training", *item["loc"]), _pydantic_problem(item))
    if baseline not in resolved:
        problems["baseline"] = f"{baseline!r} is not a run of the run table"
    if problems:
        raise RunTableError(problems)
    return validated


def _written_at(runs: Mapping[str, Mapping[str, Any]], name: str, path: tuple[str | int, ...]) -> str:
    """``runs.<row>.<path>``: the key of ``path`` at the first row of ``name``'s base chain that
    writes it (``name`` when none does, e.g. for a missing field)."""
    keys = [part for part in path if isinstance(part, str)]
    row: str | None = name
    while row is not None and not _writes(runs[row] or {}, keys):
        row = (runs[row] or {}).get("base")
    return ".".join(["runs", row or name, *map(str, path)])


def _writes(row: Mapping[str, Any], keys: list[str]) -> bool:
    """Whether ``row`` (as written) sets the nested key ``keys``."""
    for key in keys:
        if not isinstance(row, Mapping) or key not in row:
            return False
        row = row[key]
    return True


def _pydantic_problem(error: Mapping[str, Any]) -> str:
    """Pydantic's message for one error, with the value it got when that is a single value."""
    value = error.get("input")
    return error["msg"] if isinstance(value, Mapping) else f"{error['msg']} (got {value!r})"


def name_rows(table: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each row of a named table (``supervision_levels``) with its ``name`` set."""
    return {name: {**(row or {}), "name": name} for name, row in table.items()}
