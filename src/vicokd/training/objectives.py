"""Loss terms of one batch, from the model's outputs, the batch and (for distillation) the teacher."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from vicokd.losses import (
    logit_distillation_loss,
    squared_feature_distance,
    two_way_loss,
    view_consistency_diagnostics,
    view_consistency_loss,
)
from vicokd.models import action_selection_loss
from vicokd.training.recipes import Recipe, Supervision, term_weights


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
    sup = supervision
    terms: dict[str, torch.Tensor] = {}
    if sup.frame > 0:
        if "frame_labels" not in batch:
            raise KeyError("The recipe trains on frame labels but the batch has none")
        logits = output.frame_logits
        terms["frame"] = two_way_loss(
            logits.flatten(0, 1), batch["frame_labels"].flatten(0, 1), sup.tp, sup.tn
        )
    if sup.sequence > 0:
        terms["sequence"] = two_way_loss(
            output.sequence_logits, batch["sequence_labels"], sup.tp, sup.tn
        )
    if sup.actionness > 0 and output.actionness is not None:
        terms["actionness"] = action_selection_loss(
            output.actionness, output.selected_frames, batch["sequence_labels"]
        )
    if sup.presence > 0 and output.presence_logits is not None:
        terms["presence"] = F.binary_cross_entropy_with_logits(
            output.presence_logits.float(), batch["person_confidence"].float()
        )
    if recipe.needs_teacher and teacher_output is None:
        raise ValueError("The recipe distils from a teacher but no teacher output was given")
    if recipe.feature is not None:
        terms["feature"] = sum(
            squared_feature_distance(getattr(output, name), getattr(teacher_output, name))
            for name in recipe.feature.features
        )
    if recipe.logit is not None:
        terms["logit"] = logit_distillation_loss(
            output.frame_logits, teacher_output.frame_logits, recipe.logit.temperature
        )
    if recipe.view_consistency is not None:
        vc = recipe.view_consistency
        terms["view_consistency"] = view_consistency_loss(
            output.view_frame_logits.float().softmax(dim=-1),
            batch["masks"],
            confidence_weighting=vc.confidence_weighting,
            use_mask=vc.use_mask,
            divergence=vc.divergence,
        )
    return terms


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
        self.weights = term_weights(supervision, recipe)
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
        terms = loss_terms(self.supervision, self.recipe, output, batch, teacher_output)
        probs = output.view_frame_logits.detach().float().softmax(dim=-1)
        diagnostics = view_consistency_diagnostics(probs, batch["masks"])
        return Step(terms, {f"vc.{name}": value for name, value in diagnostics.items()})
