"""Where and how training runs on the hardware: the accelerator, its precision, autocast in
evaluation, and gradient checkpointing of trainable encoders."""
from __future__ import annotations

import torch
from torch import nn


def resolve_accelerator(requested: str = "auto") -> str:
    """``"auto"`` gives ``"cuda"`` when a GPU is visible, else ``"cpu"``; ``"cpu"``/``"cuda"`` force one.

    Raises ``ValueError`` when CUDA is requested and none is available.
    """
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ValueError("training.accelerator is 'cuda' but no CUDA device is available")
    return requested


def training_precision(accelerator: str, precision: str) -> str:
    """Fabric's precision on ``accelerator``: ``precision`` on CUDA, full fp32 (``32-true``) on the
    CPU, where bf16 autocast is slow and would change the CPU results."""
    return precision if accelerator == "cuda" else "32-true"


def autocast_context(device: torch.device, enabled: bool = True) -> torch.autocast:
    """bf16 autocast on CUDA when ``enabled``; a disabled context (full fp32) on the CPU."""
    return torch.autocast(
        device_type=device.type, dtype=torch.bfloat16, enabled=enabled and device.type == "cuda"
    )


def enable_gradient_checkpointing(model: nn.Module) -> list[str]:
    """Turn on transformers' gradient (activation) checkpointing in the trainable encoders of
    ``model`` (``visual_encoder.vit``, ``audio_encoder.ast``): each layer's activations are
    recomputed in backward instead of kept, which is most of what fine-tuning the encoders costs in
    memory. Non-reentrant (transformers' default), so it composes with DDP. Frozen encoders keep no
    activations and are left alone.

    Returns the names of the encoders it was turned on in.
    """
    enabled = []
    for name, attribute in (("visual_encoder", "vit"), ("audio_encoder", "ast")):
        encoder = getattr(model, name, None)
        if encoder is not None and encoder.trainable:
            getattr(encoder, attribute).activation_checkpointing_enable()
            enabled.append(f"{name}.{attribute}")
    return enabled
