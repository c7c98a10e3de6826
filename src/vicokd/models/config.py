"""The ``model:`` parameter block, parsed into typed, immutable settings."""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, TypeVar

BACKBONES = ("multitsf", "multiasl", "multitrans")


@dataclass(frozen=True)
class VisualEncoderConfig:
    """ViT image encoder. Architecture keys are used only when ``pretrained`` is null."""

    pretrained: str | None = None  # hub name or local folder, loaded offline
    trainable: bool = True  # false: weights frozen
    image_size: int = 64  # frames of another size are resized to this
    patch_size: int = 16
    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 4
    mlp_dim: int = 128
    image_mean: tuple[float, ...] = (0.5, 0.5, 0.5)
    image_std: tuple[float, ...] = (0.5, 0.5, 0.5)
    pooling: str = "cls"  # frame feature: the CLS token ("cls") or the mean of all tokens ("mean")


@dataclass(frozen=True)
class AudioEncoderConfig:
    """AST encoder of one log-mel chunk per frame. Architecture keys are used only when
    ``pretrained`` is null; ``max_length`` (spectrogram frames per chunk) always applies."""

    pretrained: str | None = None
    trainable: bool = True
    max_length: int = 40  # chunks are padded / cropped to this many spectrogram frames
    pooling: str = "cls"  # chunk feature: AST's pooled CLS+distillation tokens ("cls") or all tokens' mean
    num_mel_bins: int = 128
    patch_size: int = 16
    frequency_stride: int = 16
    time_stride: int = 8
    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 4
    mlp_dim: int = 128


@dataclass(frozen=True)
class TransformerConfig:
    """A stack of Transformer encoder layers of width ``ModelConfig.dim``."""

    layers: int = 1
    heads: int = 4
    mlp_dim: int = 128


@dataclass(frozen=True)
class ModelConfig:
    """Everything that defines a model's architecture (teacher and student share it)."""

    backbone: str = "multitsf"  # multitsf | multiasl | multitrans
    num_classes: int = 16
    dim: int = 64  # D, the width of every feature after the encoders
    dropout: float = 0.1
    cross_attention_heads: int = 4
    adapter_hidden: int = 64  # hidden width of the student's cross-modal adapter
    visual_encoder: VisualEncoderConfig = field(default_factory=VisualEncoderConfig)
    audio_encoder: AudioEncoderConfig = field(default_factory=AudioEncoderConfig)
    temporal: TransformerConfig = field(default_factory=TransformerConfig)
    view_fusion: TransformerConfig = field(default_factory=TransformerConfig)  # MultiTSF/Trans

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(f"model.backbone must be one of {BACKBONES}, got {self.backbone!r}")


T = TypeVar("T")


def _parse(cls: type[T], values: Mapping[str, Any], where: str) -> T:
    """Build dataclass ``cls`` from a mapping, recursing into nested dataclasses."""
    if not isinstance(values, Mapping):
        raise TypeError(f"{where} must be a mapping, got {type(values).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"unknown keys in {where}: {unknown}; known keys: {sorted(known)}")
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        default = known[name].default_factory() if callable(known[name].default_factory) else None
        if is_dataclass(default):
            kwargs[name] = _parse(type(default), value, f"{where}.{name}")
        elif isinstance(value, list):
            kwargs[name] = tuple(value)
        else:
            kwargs[name] = value
    return cls(**kwargs)


def parse_model_config(config: Mapping[str, Any] | ModelConfig) -> ModelConfig:
    """Parse the ``model:`` parameter mapping; unknown keys raise ``ValueError``."""
    if isinstance(config, ModelConfig):
        return config
    return _parse(ModelConfig, config, "model")
