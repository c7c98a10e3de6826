"""Where training runs: CUDA when present, else CPU, unless a parameter forces one."""
from __future__ import annotations

import torch


def resolve_device(requested: str = "auto") -> torch.device:
    """``"auto"`` gives ``cuda`` when a GPU is visible, else ``cpu``; ``"cpu"``/``"cuda[:i]"`` force one.

    Raises ``ValueError`` when CUDA is requested and none is available.
    """
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"training.device is {requested!r} but no CUDA device is available")
    return device


def autocast_context(device: torch.device, enabled: bool = True) -> torch.autocast:
    """bf16 autocast on CUDA when ``enabled``; a disabled context (full fp32) on the CPU."""
    return torch.autocast(
        device_type=device.type, dtype=torch.bfloat16, enabled=enabled and device.type == "cuda"
    )
