"""The ``model:`` parameter block as typed, immutable settings (validated by Kedro from node hints)."""

from collections.abc import Mapping
from typing import Any, Literal, get_args

from pydantic import NonNegativeFloat, PositiveInt

from vicokd.parameters import Parameters

Backbone = Literal["multitsf", "multiasl", "multitrans"]
BACKBONES: tuple[str, ...] = get_args(Backbone)
Pooling = Literal["cls", "mean"]
#: The visual projection to ``dim``: ``auto`` is the identity when the encoder's width is ``dim``
#: (a Linear otherwise); ``linear`` is always a trainable Linear, so that two models on the same
#: frozen encoder have visual features of their own.
Projection = Literal["auto", "linear"]


class VisualEncoderConfig(Parameters):
    """ViT image encoder. Architecture keys are used only when ``pretrained`` is null."""

    pretrained: str | None  # hub name or local folder, loaded offline; null = random init
    trainable: bool  # false: weights frozen
    image_size: PositiveInt  # frames of another size are resized to this
    patch_size: PositiveInt
    hidden_size: PositiveInt
    num_layers: PositiveInt
    num_heads: PositiveInt
    mlp_dim: PositiveInt
    image_mean: list[float]
    image_std: list[float]
    pooling: Pooling  # frame feature: the CLS token or the mean of all tokens
    projection: Projection  # to `dim`: "auto" (identity when hidden_size == dim) or "linear"


class AudioEncoderConfig(Parameters):
    """AST encoder of one log-mel chunk per frame. Architecture keys are used only when
    ``pretrained`` is null; ``max_length`` (spectrogram frames per chunk) always applies."""

    pretrained: str | None
    trainable: bool
    max_length: PositiveInt  # chunks are padded / cropped to this many spectrogram frames
    pooling: Pooling  # AST's pooled CLS+distillation tokens ("cls") or all tokens' mean
    num_mel_bins: PositiveInt
    patch_size: PositiveInt
    frequency_stride: PositiveInt
    time_stride: PositiveInt
    hidden_size: PositiveInt
    num_layers: PositiveInt
    num_heads: PositiveInt
    mlp_dim: PositiveInt


class TransformerConfig(Parameters):
    """A stack of Transformer encoder layers of width ``ModelConfig.dim``."""

    layers: PositiveInt
    heads: PositiveInt
    mlp_dim: PositiveInt


class ModelConfig(Parameters):
    """Everything that defines a model's architecture (teacher and student share it)."""

    backbone: Backbone
    num_classes: PositiveInt
    dim: PositiveInt  # D, the width of every feature after the encoders
    dropout: NonNegativeFloat
    cross_attention_heads: PositiveInt
    adapter_hidden: PositiveInt  # hidden width of the student's cross-modal adapter
    visual_encoder: VisualEncoderConfig
    audio_encoder: AudioEncoderConfig
    temporal: TransformerConfig  # over the T frames of each view
    view_fusion: TransformerConfig  # across views (MultiTSF: CLS tokens; MultiTrans: per frame)


def parse_model_config(config: Mapping[str, Any] | ModelConfig) -> ModelConfig:
    """The ``model:`` block as a :class:`ModelConfig`; unknown keys or wrong types raise
    ``pydantic.ValidationError`` (a ``ValueError``) naming the key."""
    if isinstance(config, ModelConfig):
        return config
    return ModelConfig.model_validate(config)
