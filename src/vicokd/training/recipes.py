"""Training recipes: which loss terms a model trains with, their weights and switches.

Methods are data, not code. A run (``conf/base/parameters_runs.yml``) trains at one or more
supervision levels (which labels it reads, whether it hears audio) with a recipe (which distillation
and consistency terms it adds). Both are made of terms of the loss-term registry
(``vicokd.losses.registry``): a supervision level names the weights of its ``supervision`` terms,
a recipe maps ``recipe`` term names to their settings, and the objective's terms and weights are
derived from the two (:func:`active_terms`).
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    RootModel,
    SerializeAsAny,
    create_model,
    model_validator,
)
from pydantic_core import PydanticUndefined

from vicokd.losses import (
    LossTerm,
    PresenceSettings,
    TermSettings,
    TwoWaySettings,
    loss_term,
    registered_terms,
)
from vicokd.parameters import Parameters


class Supervision(Parameters):
    """A supervision level (``supervision_levels.<name>``): the labels a model reads and whether it
    hears audio. Two-way loss (temperatures ``tp``, ``tn``) on frame labels (weight ``frame``; 0 means
    training frame labels are never read) and sequence labels (``sequence``, the paper's λ); the
    MultiTSF presence head against the detector's person confidence (weight ``presence``, form
    ``presence_loss``); MultiASL's actionness loss, which reads sequence labels only
    (``actionness``). A weight of 0 leaves its term out."""

    name: str
    audio: bool
    frame: NonNegativeFloat
    sequence: NonNegativeFloat
    presence: NonNegativeFloat
    presence_loss: Literal["bce", "softmax_over_time"]
    actionness: NonNegativeFloat
    tp: PositiveFloat
    tn: PositiveFloat

    @property
    def reads_frame_labels(self) -> bool:
        """Whether training reads the frame labels of training sequences (False for V_S)."""
        return self.frame > 0

    def terms(self) -> dict[str, TermSettings]:
        """The level's registered ``supervision`` terms with a positive weight, by name."""
        blocks = {
            "frame": TwoWaySettings(weight=self.frame, tp=self.tp, tn=self.tn) if self.frame else None,
            "sequence": (TwoWaySettings(weight=self.sequence, tp=self.tp, tn=self.tn)
                         if self.sequence else None),
            "presence": (PresenceSettings(weight=self.presence, form=self.presence_loss)
                         if self.presence else None),
            "actionness": TermSettings(weight=self.actionness) if self.actionness else None,
        }
        return {name: block for name, block in blocks.items() if block is not None}


@lru_cache
def _recipe_terms(terms: tuple[tuple[str, LossTerm], ...]) -> type[Parameters]:
    """A parameter block with one optional field per registered ``recipe`` term (its settings or
    None), so that a recipe's errors name the term and key as every other block's do."""
    return create_model("RecipeTerms", __base__=Parameters,
                        **{name: (term.settings | None, None) for name, term in terms})


class Recipe(RootModel[dict[str, SerializeAsAny[TermSettings]]]):
    """The terms a run adds to its supervision: registered ``recipe`` term name → its settings
    (weight included), as a run table row writes them (``{logit: {weight: 1.0, temperature: 4.0}}``),
    read as ``recipe.logit`` (None when off). A null entry is off (so that a row based on another
    can switch a term off); an unknown name or a bad setting raises ``ValueError`` naming the term
    and key."""

    model_config = ConfigDict(frozen=True)
    root: dict[str, SerializeAsAny[TermSettings]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _registered_terms(cls, blocks: Any) -> Any:
        if blocks is None or blocks is PydanticUndefined:  # null, or Recipe() with no argument
            return {}
        terms = _recipe_terms(tuple(registered_terms("recipe").items())).model_validate(blocks)
        return {name: settings for name, settings in terms if settings is not None}

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return iter(self.root)

    def __contains__(self, name: object) -> bool:
        return name in self.root

    def __getattr__(self, name: str) -> Any:
        """``recipe.<term>``: the settings of a registered recipe term, None when it is off."""
        if name in registered_terms("recipe"):
            return self.root.get(name)
        return super().__getattr__(name)

    @property
    def needs_teacher(self) -> bool:
        """Whether a term reads a teacher's outputs."""
        return any(loss_term(name).reads_teacher for name in self.root)


def active_terms(supervision: Supervision, recipe: Recipe) -> dict[str, TermSettings]:
    """Every term a model trains with: the supervision's, then the recipe's, by name."""
    terms = supervision.terms()
    terms.update(recipe.root)
    if not terms:
        raise ValueError(f"Supervision {supervision.name!r} with this recipe has no loss term")
    return terms


def term_weights(supervision: Supervision, recipe: Recipe) -> dict[str, float]:
    """Weight of every active loss term, keyed by term name."""
    return {name: settings.weight for name, settings in active_terms(supervision, recipe).items()}
