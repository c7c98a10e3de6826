"""Spatial saliency of a model on each view's frames (the overlays of the paper's Figure 4).

Grad-CAM (Selvaraju et al., ICCV 2017) on the ViT patch tokens as they enter the last encoder
layer's attention (the output of its first LayerNorm, the usual Grad-CAM layer of a ViT): the
class score's gradient with respect to those tokens, averaged over a frame's patches, weighs
each channel; the map is the ReLU of the weighted channel sum per patch, on the patch grid. The
maps of one call share one scale (no map is rescaled on its own), so a view with little evidence
shows little.
"""

from __future__ import annotations

import numpy as np
import torch

from vicokd.models.encoders import pool_tokens

TARGETS = ("view_frames", "sequence")


def _class_score(output, class_index: int, target: str) -> torch.Tensor:
    """``view_frames``: the class logit summed over every view and frame (each view's own
    evidence); ``sequence``: the sequence logit."""
    if target == "view_frames":
        return output.view_frame_logits[0, ..., class_index].sum()
    return output.sequence_logits[0, class_index]


def grad_cam(
    model: torch.nn.Module,
    frames: torch.Tensor | np.ndarray,
    audio: torch.Tensor | np.ndarray | None,
    class_index: int,
    target: str = "view_frames",
) -> np.ndarray:
    """Grad-CAM maps of one sample, per view and frame.

    Args:
        model: a ``vicokd.models.MultiViewModel`` (``build_model``); run in eval mode, restored.
        frames: ``(V, T, 3, H, W)`` uint8 or float in [0, 1].
        audio: ``(V, T, L, M)`` log-mel chunks for a model with audio, else None.
        class_index: the class whose score is explained.
        target: ``"view_frames"`` or ``"sequence"`` (see :func:`_class_score`).

    Returns:
        ``(V, T, h, w)`` float32 non-negative maps on the ViT patch grid, in the units of the class
        score's gradient × token: comparable across the views and frames of the call, not across
        models (all zeros where no patch has positive evidence).
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    frames = torch.as_tensor(frames)
    if frames.ndim != 5 or frames.shape[2] != 3:
        raise ValueError(f"frames must be (V, T, 3, H, W), got {tuple(frames.shape)}")
    views, steps = frames.shape[:2]
    encoder = model.visual_encoder
    device = next(model.parameters()).device
    captured: list[torch.Tensor] = []

    def make_leaf(module, inputs, output):
        captured.append(output.detach().requires_grad_(True))
        return captured[-1]

    was_training = model.training
    model.eval()
    hook = encoder.vit.layers[-1].layernorm_before.register_forward_hook(make_leaf)
    try:
        audio_embedding = None
        if model.audio_encoder is not None:
            if audio is None:
                raise ValueError("the model reads audio: pass its (V, T, L, M) chunks")
            with torch.no_grad():
                chunks = torch.as_tensor(audio).to(device).flatten(0, 1)
                audio_embedding = model.audio_encoder.embed(chunks).unflatten(0, (1, views, steps))
        with torch.enable_grad():
            pixels = encoder.pixel_values(frames.to(device).flatten(0, 1))
            tokens = encoder.vit(pixel_values=pixels).last_hidden_state
            visual = pool_tokens(tokens, encoder.pooling).unflatten(0, (1, views, steps))
            output = model.forward_embeddings(visual, audio_embedding)
            score = _class_score(output, class_index, target)
            (gradient,) = torch.autograd.grad(score, captured[-1])
    finally:
        hook.remove()
        model.train(was_training)
    patches, gradient = captured[-1][:, 1:].detach(), gradient[:, 1:]  # drop the CLS token
    weights = gradient.mean(dim=1, keepdim=True)  # (V·T, 1, H) mean gradient per channel
    cam = (weights * patches).sum(dim=-1).relu()  # (V·T, P)
    side = encoder.image_size // encoder.vit.config.patch_size
    return cam.reshape(views, steps, side, side).float().cpu().numpy()


def box_share(saliency: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Share of a map's mass inside a box, the map being constant on each cell of its grid.

    Args:
        saliency: ``(..., h, w)`` non-negative maps; cell (i, j) covers
            ``[j/w, (j+1)/w] × [i/h, (i+1)/h]`` of the image.
        box: ``(x1, y1, x2, y2)`` in normalised image coordinates, ``0 ≤ x1 < x2 ≤ 1`` (same
            for y).

    Returns:
        ``(...)`` shares in [0, 1]; NaN for a map without mass.
    """
    x1, y1, x2, y2 = box
    if not (0.0 <= x1 < x2 <= 1.0 and 0.0 <= y1 < y2 <= 1.0):
        raise ValueError(f"box must be (x1, y1, x2, y2) with 0 <= x1 < x2 <= 1, same for y; {box}")
    saliency = np.asarray(saliency, dtype=np.float64)
    height, width = saliency.shape[-2:]

    def covered(low: float, high: float, cells: int) -> np.ndarray:
        """Fraction of each of ``cells`` equal cells of [0, 1] inside [low, high]."""
        edges = np.arange(cells + 1) / cells
        return np.clip(np.minimum(edges[1:], high) - np.maximum(edges[:-1], low), 0, None) * cells

    inside = covered(y1, y2, height)[:, None] * covered(x1, x2, width)[None, :]
    total = saliency.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (saliency * inside).sum(axis=(-2, -1)) / total, np.nan)
