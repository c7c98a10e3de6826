"""Training recipes: which loss terms a model is trained with, their weights and switches.

Methods are data, not code: the teacher, every distillation method and every ablation is a
:class:`Recipe` read from parameters (``conf/base/parameters_teacher.yml``,
``conf/base/parameters_distill.yml``). A recipe merges a supervision level (which labels are read)
with a method (which distillation and consistency terms are added).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Model outputs that feature distillation may compare (``vicokd.models.ModelOutput`` fields).
FEATURES = ("f_visual", "f_audio", "f_attn", "f_av", "f_fusion")


@dataclass(frozen=True)
class Supervision:
    """Label terms: Two-way loss on frame labels (``frame``) and sequence labels (``sequence``, the
    paper's λ), and BCE of the presence head against the detector's person confidence."""

    frame: float = 1.0
    sequence: float = 1.0
    presence: float = 0.0
    tp: float = 4.0
    tn: float = 1.0


@dataclass(frozen=True)
class FeatureDistillation:
    """Squared L2 distance between student and teacher features, one term summed over ``features``
    (``[f_attn, f_av]`` is PAPER Eq. 7)."""

    weight: float = 0.0
    features: tuple[str, ...] = ("f_attn", "f_av")


@dataclass(frozen=True)
class LogitDistillation:
    """τ²·KL(teacher ‖ student) on temperature-softened frame logits."""

    weight: float = 0.0
    temperature: float = 4.0


@dataclass(frozen=True)
class ViewConsistency:
    """PAPER Eq. 10 on the per-view frame class distributions, with the ablation switches."""

    weight: float = 0.0
    confidence_weighting: bool = True
    use_mask: bool = True
    divergence: str = "js"


@dataclass(frozen=True)
class Recipe:
    """All loss terms of one training run; a term with weight 0 is not computed."""

    supervision: Supervision = field(default_factory=Supervision)
    feature: FeatureDistillation = field(default_factory=FeatureDistillation)
    logit: LogitDistillation = field(default_factory=LogitDistillation)
    view_consistency: ViewConsistency = field(default_factory=ViewConsistency)

    @property
    def needs_teacher(self) -> bool:
        """Whether a term reads the teacher's outputs."""
        return self.feature.weight > 0 or self.logit.weight > 0

    @property
    def reads_frame_labels(self) -> bool:
        """Whether training reads frame labels (False for the V_S supervision level)."""
        return self.supervision.frame > 0

    def weights(self) -> dict[str, float]:
        """Weight of every active term, keyed by the term names of ``objectives.loss_terms``."""
        weights = {
            "frame": self.supervision.frame,
            "sequence": self.supervision.sequence,
            "presence": self.supervision.presence,
            "feature": self.feature.weight,
            "logit": self.logit.weight,
            "view_consistency": self.view_consistency.weight,
        }
        return {name: weight for name, weight in weights.items() if weight > 0}

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (for checkpoints and fingerprints); ``from_dict`` inverts it."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, params: Mapping[str, Any]) -> Recipe:
        """Build from ``{supervision: {...}, feature: {...}, logit: {...}, view_consistency: {...}}``;
        missing blocks and keys take the defaults, unknown ones raise ``ValueError``."""
        parts = {f.name for f in dataclasses.fields(cls)}
        unknown = set(params) - set(parts)
        if unknown:
            raise ValueError(f"Unknown recipe block(s) {sorted(unknown)}; known: {sorted(parts)}")
        blocks = {}
        for name, part_type in ((f.name, f.default_factory) for f in dataclasses.fields(cls)):
            values = dict(params.get(name) or {})
            known = {f.name for f in dataclasses.fields(part_type)}
            if set(values) - known:
                raise ValueError(
                    f"Unknown key(s) {sorted(set(values) - known)} in recipe block {name!r}; "
                    f"known: {sorted(known)}"
                )
            if "features" in values:
                values["features"] = tuple(values["features"])
            blocks[name] = part_type(**values)
        recipe = cls(**blocks)
        recipe.validate()
        return recipe

    def validate(self) -> None:
        """Raise ``ValueError`` for negative weights, unknown features or divergence, no term."""
        if any(w < 0 for w in (self.supervision.frame, self.supervision.sequence,
                               self.supervision.presence, self.feature.weight,
                               self.logit.weight, self.view_consistency.weight)):
            raise ValueError(f"Recipe weights must be >= 0: {self.to_dict()}")
        unknown = set(self.feature.features) - set(FEATURES)
        if unknown:
            raise ValueError(f"Unknown feature(s) {sorted(unknown)}; known: {list(FEATURES)}")
        if self.view_consistency.divergence not in ("js", "kl"):
            raise ValueError(
                f"view_consistency.divergence must be 'js' or 'kl', "
                f"got {self.view_consistency.divergence!r}"
            )
        if not self.weights():
            raise ValueError("Recipe has no loss term with a positive weight")


def merge_recipe(supervision: Mapping[str, Any], method: Mapping[str, Any]) -> Recipe:
    """The recipe of one (supervision level, method) pair: the method's blocks plus the
    supervision level's ``supervision`` block (a method may not set its own supervision)."""
    if "supervision" in method:
        raise ValueError("A method recipe may not set 'supervision'; it comes from the level")
    return Recipe.from_dict({**method, "supervision": supervision})
