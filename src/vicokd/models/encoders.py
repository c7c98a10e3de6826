"""Per-frame encoders shared across views: ViT for images, AST for audio chunks.

``transformers`` is imported where an encoder is built, so that a run that builds none (every stage
reused) does not pay for importing its model classes.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from vicokd.models.config import AudioEncoderConfig, ModelConfig, VisualEncoderConfig

if TYPE_CHECKING:
    from transformers import ASTModel, PreTrainedModel

M = TypeVar("M", bound="PreTrainedModel")

#: The two per-frame encoders of a model.
Modality = Literal["visual", "audio"]


def offline_weights_fix(source: str, config_key: str) -> str:
    """How to provide the weights ``source`` of ``model.<config_key>`` without network."""
    return (f"Provide them offline: on a machine with network run "
            f"`hf download {source} --local-dir data/06_models/pretrained/{source.split('/')[-1]}` "
            f"(or `from_pretrained(...).save_pretrained(<folder>)`), copy that folder here, and set "
            f"`model.{config_key}.pretrained` to the folder in conf/paper/parameters_model.yml; "
            f"or set it to null for a randomly initialised encoder.")


def load_pretrained(loader: Callable[..., M], source: str, config_key: str, **kwargs) -> M:
    """``loader(source, local_files_only=True)``; any failure becomes an error saying how to
    provide the weights offline."""
    try:
        return loader(source, local_files_only=True, **kwargs)
    except (OSError, ValueError) as error:
        raise FileNotFoundError(
            f"Cannot load the pretrained weights {source!r} for model.{config_key} without network "
            f"({error}). {offline_weights_fix(source, config_key)}"
        ) from error


def pool_tokens(tokens: torch.Tensor, pooling: str) -> torch.Tensor:
    """``(N, 1 + P, H)`` ViT tokens -> ``(N, H)``: the CLS token or the mean of all tokens."""
    if pooling == "cls":
        return tokens[:, 0]
    if pooling == "mean":
        return tokens.mean(1)
    raise ValueError(f"Unknown pooling {pooling!r}: use 'cls' or 'mean'")


class VisualEncoder(nn.Module):
    """ViT over single frames; the pooled tokens (CLS or mean), projected to ``dim``.

    Input: ``(N, 3, H, W)`` uint8 (0..255) or float in [0, 1]; normalised with the configured
    mean / std and resized to the ViT's ``image_size`` when H, W differ. Output: ``(N, dim)`` =
    ``project(embed(images))``.
    """

    def __init__(self, config: VisualEncoderConfig, dim: int,
                 architecture: dict[str, Any] | None = None) -> None:
        """``architecture``: a ViT's Hugging Face config dict to build (weights left to a
        checkpoint's state dict) instead of loading ``config.pretrained``."""
        super().__init__()
        from transformers import ViTConfig, ViTModel

        if architecture is not None:
            self.vit = ViTModel(ViTConfig.from_dict(architecture), add_pooling_layer=False)
        elif config.pretrained:
            self.vit = load_pretrained(
                ViTModel.from_pretrained,
                config.pretrained,
                "visual_encoder",
                add_pooling_layer=False,
            )
        else:
            self.vit = ViTModel(
                ViTConfig(
                    image_size=config.image_size,
                    patch_size=config.patch_size,
                    hidden_size=config.hidden_size,
                    num_hidden_layers=config.num_layers,
                    num_attention_heads=config.num_heads,
                    intermediate_size=config.mlp_dim,
                ),
                add_pooling_layer=False,
            )
        self.vit.requires_grad_(config.trainable)
        self.trainable = config.trainable
        self.image_size = int(self.vit.config.image_size)
        self.pooling = config.pooling
        self.register_buffer("mean", torch.tensor(config.image_mean).view(1, 3, 1, 1), False)
        self.register_buffer("std", torch.tensor(config.image_std).view(1, 3, 1, 1), False)
        self.embedding_size = int(self.vit.config.hidden_size)
        hidden = self.embedding_size
        identity = hidden == dim and config.projection == "auto"
        self.project = nn.Identity() if identity else nn.Linear(hidden, dim)

    def pixel_values(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` frames → ``(N, 3, S, S)`` normalised ViT input (S = ``image_size``)."""
        x = images.float()
        if images.dtype == torch.uint8:
            x = x / 255.0
        if x.shape[-2:] != (self.image_size, self.image_size):
            x = F.interpolate(
                x,
                size=(self.image_size, self.image_size),
                mode="bilinear",
                align_corners=False,
                antialias=True,
            )
        return (x - self.mean) / self.std

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W) → (N, embedding_size)``: the pooled ViT tokens, before the projection;
        without a graph when the encoder is frozen."""
        with torch.set_grad_enabled(self.trainable and torch.is_grad_enabled()):
            tokens = self.vit(pixel_values=self.pixel_values(images)).last_hidden_state
            return pool_tokens(tokens, self.pooling)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.project(self.embed(images))


def crop_audio_positions(ast: ASTModel, max_length: int) -> None:
    """Fit an AST's position grid to ``max_length`` spectrogram frames by keeping the first time
    positions (what zero-padding a short chunk to the checkpoint's length would use, at a
    fraction of the cost)."""
    config = ast.config
    freq_out, time_out = ast.embeddings.get_shape(config)
    new_time_out = (max_length - config.patch_size) // config.time_stride + 1
    if new_time_out > time_out:
        raise ValueError(
            f"model.audio_encoder.max_length={max_length} exceeds the checkpoint's "
            f"max_length={config.max_length}"
        )
    positions = ast.embeddings.position_embeddings.data
    grid = positions[:, 2:].reshape(1, freq_out, time_out, -1)[:, :, :new_time_out]
    cropped = torch.cat([positions[:, :2], grid.reshape(1, freq_out * new_time_out, -1)], dim=1)
    ast.embeddings.position_embeddings = nn.Parameter(
        cropped, requires_grad=ast.embeddings.position_embeddings.requires_grad
    )
    config.max_length = max_length


class AudioEncoder(nn.Module):
    """AST over one log-mel chunk per frame; the pooled tokens (AST's CLS + distillation
    pooling, or the mean), projected to ``dim``.

    Input: ``(N, L, M)`` AST-normalised log-mel, padded with zeros / cropped to ``max_length``
    along L. Output: ``(N, dim)`` = ``project(embed(chunks))``.
    """

    def __init__(self, config: AudioEncoderConfig, dim: int,
                 architecture: dict[str, Any] | None = None) -> None:
        """``architecture``: an AST's Hugging Face config dict to build (weights left to a
        checkpoint's state dict) instead of loading ``config.pretrained``."""
        super().__init__()
        from transformers import ASTConfig, ASTModel

        if architecture is not None:
            self.ast = ASTModel(ASTConfig.from_dict(architecture))
        elif config.pretrained:
            self.ast = load_pretrained(ASTModel.from_pretrained, config.pretrained, "audio_encoder")
            if self.ast.config.max_length != config.max_length:
                crop_audio_positions(self.ast, config.max_length)
        else:
            self.ast = ASTModel(
                ASTConfig(
                    max_length=config.max_length,
                    num_mel_bins=config.num_mel_bins,
                    patch_size=config.patch_size,
                    frequency_stride=config.frequency_stride,
                    time_stride=config.time_stride,
                    hidden_size=config.hidden_size,
                    num_hidden_layers=config.num_layers,
                    num_attention_heads=config.num_heads,
                    intermediate_size=config.mlp_dim,
                )
            )
        self.ast.requires_grad_(config.trainable)
        self.trainable = config.trainable
        self.max_length = config.max_length
        self.pooling = config.pooling
        self.num_mel_bins = int(self.ast.config.num_mel_bins)
        self.embedding_size = int(self.ast.config.hidden_size)
        hidden = self.embedding_size
        self.project = nn.Identity() if hidden == dim else nn.Linear(hidden, dim)

    def embed(self, chunks: torch.Tensor) -> torch.Tensor:
        """``(N, L, M) → (N, embedding_size)``: the pooled AST tokens, before the projection;
        without a graph when the encoder is frozen."""
        if chunks.shape[-1] != self.num_mel_bins:
            raise ValueError(
                f"audio chunks have {chunks.shape[-1]} mel bins, the audio encoder expects "
                f"{self.num_mel_bins}"
            )
        x = chunks.float()
        length = x.shape[-2]
        if length > self.max_length:
            x = x[:, : self.max_length]
        elif length < self.max_length:
            x = F.pad(x, (0, 0, 0, self.max_length - length))
        with torch.set_grad_enabled(self.trainable and torch.is_grad_enabled()):
            out = self.ast(input_values=x)
            return out.pooler_output if self.pooling == "cls" else out.last_hidden_state.mean(1)

    def forward(self, chunks: torch.Tensor) -> torch.Tensor:
        return self.project(self.embed(chunks))


def build_encoder_from(modality: Modality, config: ModelConfig) -> VisualEncoder | AudioEncoder:
    """The ``modality`` encoder exactly as ``config`` describes it (pretrained weights loaded)."""
    if modality == "visual":
        return VisualEncoder(config.visual_encoder, config.dim)
    return AudioEncoder(config.audio_encoder, config.dim)


def build_encoder(modality: Modality, config: ModelConfig) -> VisualEncoder | AudioEncoder:
    """The ``modality`` encoder of ``config``'s architecture, randomly initialised and trainable."""
    fresh = {"pretrained": None, "trainable": True}
    return build_encoder_from(modality, config.model_copy(update={
        f"{modality}_encoder": getattr(config, f"{modality}_encoder").model_copy(update=fresh)}))
