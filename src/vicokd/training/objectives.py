"""Loss terms of one batch, from the model's outputs, the batch and (for distillation) the teacher;
and how hard each term pulls on the parameters (:meth:`Objective.gradient_norms`)."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Dataset, default_collate

from vicokd.losses import TermSettings, loss_term, view_consistency_diagnostics
from vicokd.training.recipes import Recipe, Supervision, active_terms


def compute_terms(terms: Mapping[str, TermSettings], output: Any, batch: Mapping[str, torch.Tensor],
                  teacher_output: Any | None = None) -> dict[str, torch.Tensor]:
    """Each term of ``terms`` (name → settings) computed by its registered function, unweighted;
    terms that do not apply to the model (their function returns None) are left out."""
    values = {name: loss_term(name).compute(settings, output, batch, teacher_output)
              for name, settings in terms.items()}
    return {name: value for name, value in values.items() if value is not None}


def loss_terms(
    supervision: Supervision,
    recipe: Recipe,
    output: Any,
    batch: Mapping[str, torch.Tensor],
    teacher_output: Any | None = None,
) -> dict[str, torch.Tensor]:
    """Every active term of ``supervision`` and ``recipe`` (unweighted), keyed as in
    :func:`~vicokd.training.recipes.term_weights`.

    Args:
        supervision: which labels are read, with their weights.
        recipe: which distillation and consistency terms, with their switches.
        output: the trained model's ``ModelOutput`` (``frame_logits (B,T,C)``,
            ``sequence_logits (B,C)``, ``view_frame_logits (B,V,T,C)``, features ``(B,V,T,D)``,
            ``presence_logits (B,V,T)`` or None).
        batch: ``sequence_labels (B,C)``, ``masks (B,V,T)``, ``person_confidence (B,V,T)`` and,
            only when the recipe reads them, ``frame_labels (B,T,C)``.
        teacher_output: the frozen teacher's ``ModelOutput`` on the same batch (distillation).
    """
    if recipe.needs_teacher and teacher_output is None:
        raise ValueError("The recipe distils from a teacher but no teacher output was given")
    return compute_terms(active_terms(supervision, recipe), output, batch, teacher_output)


def weighted_total(weights: Mapping[str, float], terms: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """``Σ weight · term`` over the computed terms."""
    return sum(weights[name] * value for name, value in terms.items())


@dataclass
class Step:
    """One batch: the unweighted loss terms (differentiable) and what view-aware consistency has to
    act on (``vc.loss``, ``vc.confidence_weight``, ``vc.active_pair_share``; recorded for every run,
    whether or not its recipe trains with the term)."""

    terms: dict[str, torch.Tensor]
    diagnostics: dict[str, float]


def probe_batch(train_set: Dataset, size: int) -> dict[str, Any]:
    """The batch :meth:`Objective.gradient_norms` measures on: the first ``size`` items of
    ``train_set`` in its own order (the same sequences every epoch, with that epoch's frames)."""
    return default_collate([train_set[index] for index in range(min(size, len(train_set)))])


def _norm(gradients: list[torch.Tensor | None]) -> float:
    """The L2 norm of a list of gradients, missing ones (None) counting as 0."""
    return math.sqrt(sum(float(g.float().pow(2).sum()) for g in gradients if g is not None))


class Objective:
    """Runs the model (and the frozen teacher) on a batch and returns the loss terms.

    Args:
        supervision: the supervision level (its ``audio`` says whether the trained model reads the
            batch's audio).
        recipe: the distillation and consistency terms.
        teacher: the frozen audio-visual teacher, for recipes that distil; run under ``no_grad``.
    """

    def __init__(self, supervision: Supervision, recipe: Recipe,
                 teacher: torch.nn.Module | None = None):
        if recipe.needs_teacher and teacher is None:
            raise ValueError("This recipe distils from a teacher; pass one")
        self.supervision = supervision
        self.recipe = recipe
        self.terms = active_terms(supervision, recipe)
        self.weights = {name: settings.weight for name, settings in self.terms.items()}
        self.supervised = tuple(supervision.terms())
        self.with_audio = supervision.audio
        self.teacher = teacher if recipe.needs_teacher else None

    def to(self, device: torch.device) -> Objective:
        """Move the teacher (if any) to ``device``."""
        if self.teacher is not None:
            self.teacher.to(device)
        return self

    def __call__(self, model: torch.nn.Module, batch: Mapping[str, torch.Tensor]) -> Step:
        """Loss terms and diagnostics of ``model`` on ``batch`` (tensors on the model's device)."""
        output = model(batch["frames"], batch["audio"] if self.with_audio else None)
        teacher_output = None
        if self.teacher is not None:
            with torch.no_grad():
                teacher_output = self.teacher(batch["frames"], batch["audio"])
        terms = compute_terms(self.terms, output, batch, teacher_output)
        probs = output.view_frame_logits.detach().float().softmax(dim=-1)
        diagnostics = view_consistency_diagnostics(probs, batch["masks"])
        return Step(terms, {f"vc.{name}": value for name, value in diagnostics.items()})

    def gradient_norms(self, model: torch.nn.Module,
                       batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """How hard each weighted term pulls on ``model`` at ``batch`` (``torch.autograd.grad`` per
        term; the parameters' ``.grad`` and the random state are left as they were).

        The *shared* parameters are the trainable ones that the supervision's weighted total
        reaches (every parameter a distillation or consistency term could move against or with the
        labels; without supervision terms, those any term reaches); the *head* is
        ``model.frame_head`` (the per-view frame classifier).

        Returns:
            ``grad.<term>`` and ``grad.<term>.head``: the L2 norm of ``∇ weight·term`` over the
            shared parameters and over the head, for every term and for ``supervision`` (the
            supervision terms' weighted sum); ``grad.<term>.share``: ``grad.<term>`` over
            ``grad.supervision``, for every term outside the supervision (when there is one).
        """
        devices = [batch["frames"].device] if batch["frames"].device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            terms = self(model, batch).terms
        weighted = {name: self.weights[name] * value for name, value in terms.items()}
        supervision = [weighted[name] for name in self.supervised if name in weighted]
        reference = sum(supervision) if supervision else sum(weighted.values())
        trainable = [p for p in model.parameters() if p.requires_grad]
        reached = torch.autograd.grad(reference, trainable, retain_graph=True, allow_unused=True)
        shared = [p for p, g in zip(trainable, reached) if g is not None]
        if supervision:
            weighted = {"supervision": reference, **weighted}
        head = {id(p) for p in model.frame_head.parameters()}
        is_head = [id(p) in head for p in shared]
        norms: dict[str, float] = {}
        for name, value in weighted.items():
            gradients = (torch.autograd.grad(value, shared, retain_graph=True, allow_unused=True)
                         if value.requires_grad else [None] * len(shared))
            norms[f"grad.{name}"] = _norm(gradients)
            norms[f"grad.{name}.head"] = _norm([g for g, h in zip(gradients, is_head) if h])
        if supervision:
            for name in terms:
                if name not in self.supervised:
                    norms[f"grad.{name}.share"] = (norms[f"grad.{name}"] / norms["grad.supervision"]
                                                   if norms["grad.supervision"] > 0 else math.nan)
        return norms
