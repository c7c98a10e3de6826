"""The multi-view model: one class for the audio-visual teacher and the visual-only student."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from vicokd.models.backbones import BACKBONE_CLASSES
from vicokd.models.config import ModelConfig, parse_model_config
from vicokd.models.cross_modal import CrossModalAdapter, CrossModalAttention
from vicokd.models.encoders import AudioEncoder, VisualEncoder


@dataclass
class ModelOutput:
    """Everything a forward pass returns (B batch, V views, T frames, C classes, D width).

    Attributes:
        view_frame_logits: ``(B, V, T, C)`` per-view frame logits, after the backbone's view
            fusion: what ``frame_logits`` are made of (view consistency, KD).
        frame_logits: ``(B, T, C)`` frame logits fused over views (frame supervision, mAP).
        sequence_logits: ``(B, C)`` sequence logits (sequence supervision, mAP).
        f_visual: ``(B, V, T, D)`` visual features ``F^V``.
        f_audio: ``(B, V, T, D)`` real audio features ``F^A`` (teacher) or the adapter's
            pseudo-audio features (student).
        f_attn: ``(B, V, T, D)`` cross-modal attention output ``F^attn``.
        f_av: ``(B, V, T, D)`` ``F^AV = F^V + F^attn``.
        f_fusion: ``(B, V, T, D)`` temporal Transformer output ``F^Fusion``.
        cross_attention: ``(B, V, T, T)`` cross-modal attention weights (query frame × audio
            frame), averaged over heads; rows sum to 1 in eval mode (dropout in training).
        view_frame_logits_before_fusion: ``(B, V, T, C)`` the frame classifier on each view's
            temporal features ``F^Fusion``, before the view fusion of MultiTSF and MultiTrans (as
            the authors' MultiTSF code computes its per-view frame logits); MultiASL has no view
            fusion, so they equal ``view_frame_logits``. None for models without them.
        presence_logits: ``(B, V, T)`` human-presence logits (MultiTSF) or None.
        actionness: ``(B, 2, T)`` actionness probabilities before / after the temporal encoder
            (MultiASL) or None.
        selected_frames: ``(B, k, C)`` indices of the frames whose class activations make the
            sequence logits (MultiASL action selection) or None.
    """

    view_frame_logits: torch.Tensor
    frame_logits: torch.Tensor
    sequence_logits: torch.Tensor
    f_visual: torch.Tensor
    f_audio: torch.Tensor
    f_attn: torch.Tensor
    f_av: torch.Tensor
    f_fusion: torch.Tensor
    cross_attention: torch.Tensor
    view_frame_logits_before_fusion: torch.Tensor | None = None
    presence_logits: torch.Tensor | None = None
    actionness: torch.Tensor | None = None
    selected_frames: torch.Tensor | None = None


class MultiViewModel(nn.Module):
    """Encoders shared across views → cross-modal attention → backbone.

    With audio (teacher) the keys / values of the cross-modal attention are AST features of the
    audio chunks; without (student) they are pseudo-audio features made by the cross-modal
    adapter from the visual features, and no audio encoder exists.
    """

    def __init__(self, config: ModelConfig, with_audio: bool,
                 architectures: Mapping[str, dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.config = config
        self.with_audio = with_audio
        architectures = architectures or {}
        self.visual_encoder = VisualEncoder(config.visual_encoder, config.dim,
                                            architectures.get("visual"))
        self.audio_encoder = (AudioEncoder(config.audio_encoder, config.dim, architectures.get("audio"))
                              if with_audio else None)
        self.adapter = None if with_audio else CrossModalAdapter(config.dim, config.adapter_hidden)
        self.cross_attention = CrossModalAttention(
            config.dim, config.cross_attention_heads, config.dropout
        )
        self.backbone = BACKBONE_CLASSES[config.backbone](config)

    @property
    def frame_head(self) -> nn.Module:
        """The frame classifier (shared by the views; the head the supervision trains)."""
        return self.backbone.frame_head

    def encoder_architectures(self) -> dict[str, dict[str, Any]]:
        """The encoders' Hugging Face config dicts (``visual``, and ``audio`` with audio): with a
        state dict they rebuild this model without its pretrained folders."""
        architectures = {"visual": self.visual_encoder.vit.config.to_dict()}
        if self.audio_encoder is not None:
            architectures["audio"] = self.audio_encoder.ast.config.to_dict()
        return architectures

    @property
    def embedding_sizes(self) -> dict[str, int]:
        """Widths of :meth:`embed`'s outputs: ``{"visual": H_v}``, plus ``"audio": H_a`` with
        audio (what a feature cache stores per frame)."""
        sizes = {"visual": self.visual_encoder.embedding_size}
        if self.audio_encoder is not None:
            sizes["audio"] = self.audio_encoder.embedding_size
        return sizes

    def embed(
        self, frames: torch.Tensor, audio: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The encoders' outputs before their projections (no graph for a frozen encoder).

        Args:
            frames: ``(B, V, T, 3, H, W)`` uint8 (0..255) or float in [0, 1].
            audio: ``(B, V, T, L, M)`` log-mel chunks, one per frame; required by the teacher,
                ignored by the student.

        Returns:
            visual ``(B, V, T, H_v)`` and audio ``(B, V, T, H_a)`` (None for the student).
        """
        visual = self._embed_frames(frames)
        if self.audio_encoder is None:
            return visual, None
        return visual, self._embed_audio(audio, frames.shape[:3])

    def _embed_frames(self, frames: torch.Tensor) -> torch.Tensor:
        if frames.ndim != 6 or frames.shape[3] != 3:
            raise ValueError(f"frames must be (B, V, T, 3, H, W), got {tuple(frames.shape)}")
        return self.visual_encoder.embed(frames.flatten(0, 2)).unflatten(0, frames.shape[:3])

    def _embed_audio(self, audio: torch.Tensor | None, steps: tuple[int, ...]) -> torch.Tensor:
        if audio is None:
            raise ValueError("the audio-visual teacher needs audio (B, V, T, L, M), got None")
        if audio.ndim != 5 or audio.shape[:3] != steps:
            raise ValueError(
                f"audio must be (B, V, T, L, M) matching frames {tuple(steps)}, "
                f"got {tuple(audio.shape)}"
            )
        return self.audio_encoder.embed(audio.flatten(0, 2)).unflatten(0, steps)

    def forward_embeddings(
        self, visual: torch.Tensor, audio: torch.Tensor | None = None
    ) -> ModelOutput:
        """The model from the encoders' outputs on (e.g. cached embeddings of any float dtype).

        Args:
            visual: ``(B, V, T, H_v)`` from :meth:`embed`.
            audio: ``(B, V, T, H_a)`` from :meth:`embed`; required by the teacher, ignored by
                the student.
        """
        sizes = self.embedding_sizes
        if visual.ndim != 4 or visual.shape[-1] != sizes["visual"]:
            raise ValueError(
                f"visual embeddings must be (B, V, T, {sizes['visual']}), got {tuple(visual.shape)}"
            )
        batch, views, steps = visual.shape[:3]
        f_visual = self.visual_encoder.project(visual.float()).flatten(0, 1)  # (B·V, T, D)
        if self.audio_encoder is not None:
            if audio is None:
                raise ValueError("the audio-visual teacher needs audio embeddings, got None")
            if audio.shape != (batch, views, steps, sizes["audio"]):
                raise ValueError(
                    f"audio embeddings must be {(batch, views, steps, sizes['audio'])}, "
                    f"got {tuple(audio.shape)}"
                )
            f_audio = self.audio_encoder.project(audio.float()).flatten(0, 1)
        else:
            f_audio = self.adapter(f_visual)
        f_attn, f_av, weights = self.cross_attention(f_visual, f_audio)

        def per_view(x: torch.Tensor) -> torch.Tensor:
            return x.reshape(batch, views, *x.shape[1:])

        fusion = self.backbone(per_view(f_av))
        return ModelOutput(
            view_frame_logits=fusion.view_frame_logits,
            view_frame_logits_before_fusion=fusion.view_frame_logits_before_fusion,
            frame_logits=fusion.frame_logits,
            sequence_logits=fusion.sequence_logits,
            f_visual=per_view(f_visual),
            f_audio=per_view(f_audio),
            f_attn=per_view(f_attn),
            f_av=per_view(f_av),
            f_fusion=fusion.f_fusion,
            cross_attention=per_view(weights),
            presence_logits=fusion.presence_logits,
            actionness=fusion.actionness,
            selected_frames=fusion.selected_frames,
        )

    def forward(self, frames: torch.Tensor, audio: torch.Tensor | None = None) -> ModelOutput:
        """The model on pixels and log-mels, or on their embeddings (a frozen encoder's cache).

        Args:
            frames: ``(B, V, T, 3, H, W)`` frames (uint8 or float in [0, 1]), or their visual
                embeddings ``(B, V, T, H_v)`` (:meth:`embed`).
            audio: ``(B, V, T, L, M)`` log-mel chunks, or their audio embeddings ``(B, V, T, H_a)``;
                required by the teacher, ignored by the student.

        Equals ``forward_embeddings(*embed(frames, audio))`` on pixels and log-mels.
        """
        visual = frames if frames.ndim == 4 else self._embed_frames(frames)
        if self.audio_encoder is None:
            return self.forward_embeddings(visual, None)
        if audio is not None and audio.ndim == 4:
            return self.forward_embeddings(visual, audio)
        return self.forward_embeddings(visual, self._embed_audio(audio, visual.shape[:3]))


def build_model(config: Mapping[str, Any] | ModelConfig, with_audio: bool,
                architectures: Mapping[str, dict[str, Any]] | None = None) -> MultiViewModel:
    """Build the teacher (``with_audio=True``) or the student (``False``) from the ``model:``
    parameter block; ``architectures`` (:meth:`MultiViewModel.encoder_architectures`) builds the
    encoders without loading their pretrained weights (a checkpoint's state dict holds them)."""
    return MultiViewModel(parse_model_config(config), with_audio, architectures)


def model_signature(config: Mapping[str, Any] | ModelConfig, with_audio: bool) -> dict[str, Any]:
    """A JSON-serialisable description of the architecture (the parsed config with defaults
    filled in, plus ``with_audio``); a checkpoint whose signature differs cannot be loaded."""
    return {"with_audio": bool(with_audio),
            "model": parse_model_config(config).model_dump(mode="json")}
