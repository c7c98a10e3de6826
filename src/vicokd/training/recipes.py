"""Training recipes: which loss terms a model trains with, their weights and switches.

Methods are data, not code. A run (``conf/base/parameters_runs.yml``) trains at one or more
supervision levels (which labels it reads, whether it hears audio) with a recipe (which distillation
and consistency terms it adds). Both are typed parameter blocks validated by Kedro.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat

from vicokd.parameters import Parameters

#: Model outputs that feature distillation may compare (``vicokd.models.ModelOutput`` fields).
FeatureName = Literal["f_visual", "f_audio", "f_attn", "f_av", "f_fusion"]


class Supervision(Parameters):
    """A supervision level (``supervision_levels.<name>``): the labels a model reads and whether it
    hears audio. Two-way loss (temperatures ``tp``, ``tn``) on frame labels (weight ``frame``; 0 means
    training frame labels are never read) and sequence labels (``sequence``, the paper's λ); BCE of
    the MultiTSF presence head against the detector's person confidence (``presence``); MultiASL's
    actionness loss, which reads sequence labels only (``actionness``)."""

    name: str
    audio: bool
    frame: NonNegativeFloat
    sequence: NonNegativeFloat
    presence: NonNegativeFloat
    actionness: NonNegativeFloat
    tp: PositiveFloat
    tn: PositiveFloat

    @property
    def reads_frame_labels(self) -> bool:
        """Whether training reads the frame labels of training sequences (False for V_S)."""
        return self.frame > 0


class FeatureDistillation(Parameters):
    """Squared L2 distance between student and teacher features, one term summed over ``features``
    (``[f_attn, f_av]`` is PAPER Eq. 7)."""

    weight: PositiveFloat
    features: list[FeatureName] = Field(min_length=1)


class LogitDistillation(Parameters):
    """τ²·KL(teacher ‖ student) on temperature-softened frame logits."""

    weight: PositiveFloat
    temperature: PositiveFloat


class ViewConsistency(Parameters):
    """PAPER Eq. 10 on the per-view frame class distributions, with the ablation switches."""

    weight: PositiveFloat
    confidence_weighting: bool
    use_mask: bool
    divergence: Literal["js", "kl"]


class Recipe(Parameters):
    """The terms a run adds to its supervision; an absent (null) block is not computed."""

    feature: FeatureDistillation | None = None
    logit: LogitDistillation | None = None
    view_consistency: ViewConsistency | None = None

    @property
    def needs_teacher(self) -> bool:
        """Whether a term reads a teacher's outputs."""
        return self.feature is not None or self.logit is not None


def term_weights(supervision: Supervision, recipe: Recipe) -> dict[str, float]:
    """Weight of every active loss term, keyed by the term names of ``objectives.loss_terms``."""
    weights = {
        "frame": supervision.frame,
        "sequence": supervision.sequence,
        "presence": supervision.presence,
        "actionness": supervision.actionness,
        "feature": recipe.feature.weight if recipe.feature else 0.0,
        "logit": recipe.logit.weight if recipe.logit else 0.0,
        "view_consistency": recipe.view_consistency.weight if recipe.view_consistency else 0.0,
    }
    active = {name: weight for name, weight in weights.items() if weight > 0}
    if not active:
        raise ValueError(f"Supervision {supervision.name!r} with this recipe has no loss term")
    return active
