"""Multi-view audio-visual models: encoders, cross-modal attention, backbones (plain PyTorch)."""

from vicokd.models.action_selection import action_selection_loss
from vicokd.models.backbones import BACKBONE_CLASSES, FusionOutput
from vicokd.models.config import BACKBONES, ModelConfig, parse_model_config
from vicokd.models.model import ModelOutput, MultiViewModel, build_model, model_signature

__all__ = [
    "BACKBONES",
    "BACKBONE_CLASSES",
    "FusionOutput",
    "ModelConfig",
    "ModelOutput",
    "MultiViewModel",
    "action_selection_loss",
    "build_model",
    "model_signature",
    "parse_model_config",
]
