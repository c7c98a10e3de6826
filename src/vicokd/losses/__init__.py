"""Losses of ViCoKD: supervision (Two-way), distillation (feature, logit) and view consistency, and
the registry of loss terms that supervision levels and recipes are made of (``losses.terms``)."""

from vicokd.losses.distillation import (
    logit_distillation_loss,
    squared_feature_distance,
)
from vicokd.losses.registry import (
    LossTerm,
    TermSettings,
    loss_term,
    register_term,
    registered_terms,
    unregister_term,
)
from vicokd.losses.terms import (
    FeatureDistillationSettings,
    LogitDistillationSettings,
    PresenceSettings,
    TwoWaySettings,
    ViewConsistencySettings,
)
from vicokd.losses.two_way import two_way_loss
from vicokd.losses.view_consistency import (
    view_consistency,
    view_consistency_diagnostics,
    view_consistency_loss,
)

__all__ = [
    "FeatureDistillationSettings",
    "LogitDistillationSettings",
    "LossTerm",
    "PresenceSettings",
    "TermSettings",
    "TwoWaySettings",
    "ViewConsistencySettings",
    "logit_distillation_loss",
    "loss_term",
    "register_term",
    "registered_terms",
    "squared_feature_distance",
    "two_way_loss",
    "unregister_term",
    "view_consistency",
    "view_consistency_diagnostics",
    "view_consistency_loss",
]
