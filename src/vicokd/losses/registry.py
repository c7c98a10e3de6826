"""The loss-term registry: a term is a name, a settings model and a function.

Everything that trains with loss terms reads them from here: a supervision level's terms and a run's
recipe are mappings from registered names to settings (``vicokd.training.recipes``), and the
objective computes each with its registered function (``vicokd.training.objectives``). A new term
or variant is one function and one :func:`register_term` call; a new combination is a row of the run
table.

A term function takes its settings, the trained model's output, the batch and the frozen teacher's
output (None when no term of the recipe reads a teacher) and returns an unweighted scalar, or None
when the term does not apply to the model (e.g. a presence term for a backbone without a presence
head).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import PositiveFloat

from vicokd.parameters import Parameters

#: ``supervision``: read from labels (or the detector) by a supervision level; ``recipe``: added by
#: a run's recipe (distillation, consistency).
TermKind = Literal["supervision", "recipe"]

TermFunction = Callable[[Any, Any, Mapping[str, torch.Tensor], Any], torch.Tensor | None]


class TermSettings(Parameters):
    """Settings of one loss term; every term has a weight in the total loss."""

    weight: PositiveFloat


@dataclass(frozen=True)
class LossTerm:
    """A registered term: its settings model, its function, its kind and whether it reads a
    teacher's output."""

    name: str
    settings: type[TermSettings]
    compute: TermFunction
    kind: TermKind
    reads_teacher: bool


_REGISTRY: dict[str, LossTerm] = {}


def register_term(name: str, settings: type[TermSettings], kind: TermKind = "recipe",
                  reads_teacher: bool = False) -> Callable[[TermFunction], TermFunction]:
    """Decorator: register the decorated function as the loss term ``name``.

    Raises ``ValueError`` when ``name`` is already registered.
    """

    def register(compute: TermFunction) -> TermFunction:
        if name in _REGISTRY:
            raise ValueError(f"loss term {name!r} is already registered")
        _REGISTRY[name] = LossTerm(name, settings, compute, kind, reads_teacher)
        return compute

    return register


def unregister_term(name: str) -> None:
    """Remove the term ``name`` (for tests that register a term of their own)."""
    del _REGISTRY[name]


def registered_terms(kind: TermKind | None = None) -> dict[str, LossTerm]:
    """The registered terms (of ``kind``, or all), in registration order."""
    return {name: term for name, term in _REGISTRY.items() if kind in (None, term.kind)}


def loss_term(name: str, kind: TermKind | None = None) -> LossTerm:
    """The registered term ``name``; ``ValueError`` naming the known ones when there is none (of
    ``kind``)."""
    terms = registered_terms(kind)
    if name not in terms:
        what = f"{kind} loss term" if kind else "loss term"
        raise ValueError(f"unknown {what} {name!r}; registered: {sorted(terms)}")
    return terms[name]
