"""Losses of ViCoKD: supervision (Two-way), distillation (feature, logit) and view consistency."""

from vicokd.losses.distillation import (
    logit_distillation_loss,
    squared_feature_distance,
)
from vicokd.losses.two_way import two_way_loss
from vicokd.losses.view_consistency import view_consistency_diagnostics, view_consistency_loss

__all__ = [
    "logit_distillation_loss",
    "squared_feature_distance",
    "two_way_loss",
    "view_consistency_diagnostics",
    "view_consistency_loss",
]
