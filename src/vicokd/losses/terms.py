"""The registered loss terms (``vicokd.losses.registry``): supervision and recipe terms.

Supervision (``kind="supervision"``, built from a ``supervision_levels`` row): ``frame`` and
``sequence`` (Two-way loss on frame / sequence labels), ``presence`` (the MultiTSF presence head
against the detector's person confidence), ``actionness`` (MultiASL's action selection).
Recipe (a run's ``recipe:`` block): ``feature`` and ``logit`` distillation from the frozen teacher,
``view_consistency`` (PAPER Eq. 10 and its variants).

Outputs are ``vicokd.models.ModelOutput``-like objects (``frame_logits (B,T,C)``,
``sequence_logits (B,C)``, ``view_frame_logits (B,V,T,C)``, features ``(B,V,T,D)``, …); batches hold
``sequence_labels (B,C)``, ``masks (B,V,T)``, ``person_confidence (B,V,T)`` and, when the level reads
them, ``frame_labels (B,T,C)``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import torch
import torch.nn.functional as F
from pydantic import Field, PositiveFloat

from vicokd.losses.distillation import logit_distillation_loss, squared_feature_distance
from vicokd.losses.registry import TermSettings, register_term
from vicokd.losses.two_way import two_way_loss
from vicokd.losses.view_consistency import Divergence, Normalisation, Target, view_consistency
from vicokd.models.action_selection import action_selection_loss

Batch = Mapping[str, torch.Tensor]

#: Model outputs that feature distillation may compare (``vicokd.models.ModelOutput`` fields).
FeatureName = Literal["f_visual", "f_audio", "f_attn", "f_av", "f_fusion"]

#: Per-view frame logits that view consistency may compare (``ModelOutput`` fields): after the
#: backbone's view fusion (what the frame logits are made of) or before it.
VIEW_LOGITS = {"fused": "view_frame_logits", "before_fusion": "view_frame_logits_before_fusion"}


class TwoWaySettings(TermSettings):
    """Two-way multi-label loss with temperatures ``tp`` (positives) and ``tn`` (negatives)."""

    tp: PositiveFloat
    tn: PositiveFloat


class PresenceSettings(TermSettings):
    """The presence head against the detector's person confidence ``y``: ``bce`` per view and frame
    (the mean of BCE(σ(x), y)), or ``softmax_over_time`` as the authors' MultiTSF code (cross-entropy
    of the softmax over the T frames of each view against ``y``: ``−Σ_t y_t log softmax_t(x)``,
    mean over samples and views)."""

    form: Literal["bce", "softmax_over_time"]


class FeatureDistillationSettings(TermSettings):
    """Squared L2 distance between student and teacher features, summed over ``features``
    (``[f_attn, f_av]`` is PAPER Eq. 7)."""

    features: list[FeatureName] = Field(min_length=1)


class LogitDistillationSettings(TermSettings):
    """τ²·KL(teacher ‖ student) on temperature-softened frame logits."""

    temperature: PositiveFloat


class ViewConsistencySettings(TermSettings):
    """PAPER Eq. 10 (``fused``, ``softmax``, ``pairs_frames``, ``symmetric``) and its variants:
    which per-view logits (``logits``), class distributions or per-class Bernoullis
    (``probabilities``: ``softmax`` | ``sigmoid``), the ablation switches, the normalisation and
    the target (``vicokd.losses.view_consistency``)."""

    logits: Literal["fused", "before_fusion"]
    probabilities: Literal["softmax", "sigmoid"]
    confidence_weighting: bool
    use_mask: bool
    divergence: Divergence
    normalisation: Normalisation
    target: Target


@register_term("frame", TwoWaySettings, kind="supervision")
def frame_term(settings: TwoWaySettings, output: Any, batch: Batch, teacher: Any) -> torch.Tensor:
    """Two-way loss of the frame logits against the frame labels, frames as samples."""
    if "frame_labels" not in batch:
        raise KeyError("The recipe trains on frame labels but the batch has none")
    return two_way_loss(output.frame_logits.flatten(0, 1), batch["frame_labels"].flatten(0, 1),
                        settings.tp, settings.tn)


@register_term("sequence", TwoWaySettings, kind="supervision")
def sequence_term(settings: TwoWaySettings, output: Any, batch: Batch, teacher: Any) -> torch.Tensor:
    """Two-way loss of the sequence logits against the sequence labels."""
    return two_way_loss(output.sequence_logits, batch["sequence_labels"], settings.tp, settings.tn)


@register_term("presence", PresenceSettings, kind="supervision")
def presence_term(settings: PresenceSettings, output: Any, batch: Batch,
                  teacher: Any) -> torch.Tensor | None:
    """The presence head (MultiTSF) against the person confidence; None without a presence head."""
    if output.presence_logits is None:
        return None
    logits, confidence = output.presence_logits.float(), batch["person_confidence"].float()
    if settings.form == "bce":
        return F.binary_cross_entropy_with_logits(logits, confidence)
    return -(confidence * logits.log_softmax(dim=-1)).sum(dim=-1).mean()


@register_term("actionness", TermSettings, kind="supervision")
def actionness_term(settings: TermSettings, output: Any, batch: Batch,
                    teacher: Any) -> torch.Tensor | None:
    """MultiASL's action selection loss from the sequence labels; None for other backbones."""
    if output.actionness is None:
        return None
    return action_selection_loss(output.actionness, output.selected_frames, batch["sequence_labels"])


@register_term("feature", FeatureDistillationSettings, reads_teacher=True)
def feature_term(settings: FeatureDistillationSettings, output: Any, batch: Batch,
                 teacher: Any) -> torch.Tensor:
    """Σ over ``features`` of the squared feature distance to the teacher."""
    return sum(squared_feature_distance(getattr(output, name), getattr(teacher, name))
               for name in settings.features)


@register_term("logit", LogitDistillationSettings, reads_teacher=True)
def logit_term(settings: LogitDistillationSettings, output: Any, batch: Batch,
               teacher: Any) -> torch.Tensor:
    """Logit distillation on the frame logits."""
    return logit_distillation_loss(output.frame_logits, teacher.frame_logits, settings.temperature)


@register_term("view_consistency", ViewConsistencySettings)
def view_consistency_term(settings: ViewConsistencySettings, output: Any, batch: Batch,
                          teacher: Any) -> torch.Tensor:
    """View-aware consistency of the chosen per-view frame logits under the visibility masks."""
    logits = getattr(output, VIEW_LOGITS[settings.logits], None)
    if logits is None:
        raise ValueError(f"view_consistency.logits is {settings.logits!r} but the model gives no "
                         f"{VIEW_LOGITS[settings.logits]}")
    logits = logits.float()
    probs = logits.softmax(dim=-1) if settings.probabilities == "softmax" else logits.sigmoid()
    return view_consistency(
        probs, batch["masks"],
        distribution="categorical" if settings.probabilities == "softmax" else "bernoulli",
        confidence_weighting=settings.confidence_weighting, use_mask=settings.use_mask,
        divergence=settings.divergence, normalisation=settings.normalisation,
        target=settings.target,
    )
