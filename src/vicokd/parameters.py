"""The base of every typed parameter block, and the one-line form of a list.

Nodes declare their ``params:`` inputs with these models as type hints; Kedro validates the YAML
against them before any node runs. Unknown keys and wrong types are errors, and nothing is coerced:
``"false"`` is not a boolean and ``"10"`` is not a number. Values live in the YAML files; a model
declares no default for a value that a file gives (one place for each default).

A list may also be written on one line, the form ``kedro run --params`` can carry (Kedro splits
``--params`` at every comma, so ``seeds=[3,4,5]`` cannot be given there): items joined by ``+``
(``ingestion.homes=Home1+Home2``), integers also as inclusive ranges (``seeds=3-5``,
``seeds=0-2+7``); one item is a list of one (``seeds=4``, ``ingestion.homes=Home1``). Every list of
a typed block reads it, and so do the ``params:`` inputs typed with a plain ``list[...]``
(``vicokd.configuration``).
"""
from __future__ import annotations

import re
import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

#: Joins the items of a list written on one line.
SEPARATOR = "+"
_RANGE = re.compile(r"(\d+)(?:-(\d+))?")


def list_item_type(annotation: Any) -> type | None:
    """``int`` or ``str`` for an annotation that is (or may be) a list of integers or of names
    (``list[int]``, ``list[str] | None``, ``list[Literal["a", "b"]]``); None for anything else."""
    if get_origin(annotation) in (Union, types.UnionType):
        return next(filter(None, map(list_item_type, get_args(annotation))), None)
    if get_origin(annotation) is not list:
        return None
    (item,) = get_args(annotation) or (None,)
    if item is int or item is str:
        return item
    if get_origin(item) is Literal and all(isinstance(value, str) for value in get_args(item)):
        return str
    return None


def one_line_list(value: Any, annotation: Any) -> Any:
    """``value`` as a list when ``annotation`` is a list (see :func:`list_item_type`) and
    ``value`` is that list written on one line; any other value unchanged, for the type to judge.
    Raises ``ValueError`` for a one-line list with an empty item or a bad range."""
    item = list_item_type(annotation)
    if item is int and isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if item is None or not isinstance(value, str):
        return value
    parts = [part.strip() for part in value.split(SEPARATOR)]
    if not all(parts):
        raise ValueError(f"{value!r} has an empty item: join the items with {SEPARATOR!r} "
                         f"(Home1{SEPARATOR}Home2)")
    return [n for part in parts for n in _integers(part, value)] if item is int else parts


def _integers(part: str, value: str) -> range:
    """The integers that ``part`` (``4`` or ``3-5``) of the one-line list ``value`` stands for."""
    match = _RANGE.fullmatch(part)
    if match is None:
        raise ValueError(f"{value!r} is not a list of integers: write one (4), a range (3-5), "
                         f"several ({SEPARATOR.join(['0', '2', '7'])}) or both (0-2{SEPARATOR}7)")
    first, last = int(match[1]), int(match[2] or match[1])
    if last < first:
        raise ValueError(f"{value!r}: the range {part} is empty (write the smaller number first)")
    return range(first, last + 1)


class Parameters(BaseModel):
    """A strictly validated, immutable parameter block."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _list_on_one_line(cls, value: Any, info: ValidationInfo) -> Any:
        return one_line_list(value, cls.model_fields[info.field_name].annotation)
