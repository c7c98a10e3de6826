"""Parameter counts and forward FLOPs per sample of each backbone, for the base and paper models.

Usage: python benchmarks/model_cost.py [--frames T] [--views V]
Each environment's ``model`` block and T are read as a Kedro run reads them (conf/<env> merged over
conf/base). Encoders are built from the architecture keys (``pretrained`` is ignored), so no checkpoint is
needed. Models and inputs live on the meta device: shapes only, no weights, no arithmetic, so
even the paper models are counted in seconds. FLOPs are counted by torch.utils.flop_counter
(matrix products and convolutions; a multiply-add counts as 2) for one sample (B = 1) with V
views and T frames.
"""

import argparse
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from vicokd.configuration import ProjectConfigLoader
from vicokd.models import BACKBONES, build_model
from vicokd.settings import CONFIG_LOADER_ARGS

CONF = Path(__file__).resolve().parents[1] / "conf"


def environment_parameters(env: str) -> dict:
    """The parameters of conf/<env> merged over conf/base as a Kedro run reads them (globals
    resolved, run table resolved); ``base`` alone for ``env="base"``."""
    loader = ProjectConfigLoader(str(CONF), env=None if env == "base" else env, **CONFIG_LOADER_ARGS)
    return loader["parameters"]


def model_parameters(env: str) -> dict:
    """The environment's ``model:`` block, with random-init encoders."""
    config = environment_parameters(env)["model"]
    for encoder in ("visual_encoder", "audio_encoder"):
        config[encoder] = {**config[encoder], "pretrained": None}
    return config


def count(config: dict, with_audio: bool, views: int, frames: int) -> tuple[int, int, int]:
    """(all parameters, trainable parameters, forward FLOPs for one sample)."""
    with torch.device("meta"):
        model = build_model(config, with_audio=with_audio).eval()
        size = config["visual_encoder"]["image_size"]
        video = torch.zeros(1, views, frames, 3, size, size, dtype=torch.uint8)
        audio = None
        if with_audio:
            bins = config["audio_encoder"]["num_mel_bins"]
            audio = torch.zeros(1, views, frames, config["audio_encoder"]["max_length"], bins)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(video, audio)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return params, trainable, counter.get_total_flops()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=5)
    parser.add_argument(
        "--frames", type=int, default=None, help="T (default: the environment's training.num_frames)"
    )
    args = parser.parse_args()
    print(
        f"{'config':6} {'backbone':10} {'model':8} {'T':>3} {'params':>12} {'trainable':>12} "
        f"{'GFLOPs/sample':>14}"
    )
    for env in ("base", "paper"):
        frames = args.frames or environment_parameters(env)["training"]["num_frames"]
        config = model_parameters(env)
        for backbone in BACKBONES:
            for role, with_audio in (("teacher", True), ("student", False)):
                params, trainable, flops = count(
                    {**config, "backbone": backbone}, with_audio, args.views, frames
                )
                print(
                    f"{env:6} {backbone:10} {role:8} {frames:3d} {params:12,d} {trainable:12,d} "
                    f"{flops / 1e9:14.2f}"
                )


if __name__ == "__main__":
    main()
