"""Training-step cost of the paper's configuration: step time, samples per second, data-wait share,
peak GPU memory and achieved TFLOP/s against the device's bf16 peak.

Two models, each in three encoder modes:
- ``teacher``: the audio-visual teacher (supervision AV_F);
- ``vicokd``: the ViCoKD student (V_F) distilling from a frozen teacher (feature + logit +
  view-consistency terms, the run table's ``vicokd`` recipe);
- ``cached``: frozen encoders, the batch holds their cached embeddings ``(B, V, T, H)``;
  ``frozen``: frozen encoders run on pixels and log-mels every step (the training loop without a
  feature cache); ``finetuned``: encoders trained (``model.*_encoder.trainable: true``).

A step is the training loop's (vicokd.training.loop.fit): batch to the device, bf16 autocast on CUDA,
vicokd.training.objectives.Objective, weighted loss, backward, Adam. Clips come from the project's
MultiViewClipDataset over a simulated home held in memory (random pixels and log-mels of the right
shapes, 2·T frames per sequence), read in the training process as the loop reads them, so the
data-wait share is the time spent fetching and collating batches. The first step of each row is not
timed: it counts the FLOPs (torch.utils.flop_counter, a multiply-add is 2) and warms the device up.
Encoders load the paper's pretrained folders when present, else are randomly initialised at the same
architecture (the cost is the same).

Sizes (``--size``): ``paper`` = conf/paper (B = 12, T = 70, 224 px, ViT-S/32, AST base, D = 384;
the default on a GPU); ``small`` = the paper's model on a short clip (B = 1, T = 4; the default on the
CPU); ``tiny`` = conf/test's model and clip (a smoke test).

Usage:
  python benchmarks/paper_gpu.py                          # the GPU at the paper's size
  python benchmarks/paper_gpu.py --device cpu --steps 2   # the CPU at the small size
The figures are printed and written to docs/performance.md (``--output``), replacing that file's
section for the device kind (CPU or GPU) and keeping the rest.
"""
from __future__ import annotations

import argparse
import datetime
import gc
import math
import os
import platform
import re
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from model_cost import environment_parameters
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count

from vicokd.data.annotations import CLASSES
from vicokd.data.dataset import MultiViewClipDataset
from vicokd.models import build_model
from vicokd.training.device import autocast_context
from vicokd.training.objectives import Objective, weighted_total
from vicokd.training.recipes import Recipe, Supervision

ROOT = Path(__file__).resolve().parents[1]
VIEWS = 5
MODES = ("cached", "frozen", "finetuned")
MODELS = ("teacher", "vicokd")
#: Dense bf16 tensor-core peaks (TFLOP/s, no sparsity) by a substring of torch's device name; the
#: first match wins. Others: --peak-tflops.
BF16_PEAK_TFLOPS = {
    "H200": 989.4, "H100 NVL": 835.0, "H100 PCIe": 756.0, "H100": 989.4, "A100": 312.0,
    "L40S": 362.1, "L40": 181.0, "L4": 121.0, "RTX 4090": 165.2,
}
#: CPU attention kernels that torch's flop counter does not know (it counts the CUDA ones).
CPU_ATTENTION_FLOPS = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu:
        lambda q, k, v, *args, out_shape=None, **kwargs: sdpa_flop_count(q, k, v),
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward:
        lambda grad, q, k, v, *args, out_shape=None, **kwargs: sdpa_backward_flop_count(grad, q, k, v),
}


@dataclass(frozen=True)
class Size:
    """What one benchmark size trains: the ``model`` block, batch B, clip length T, frame size, the
    optimiser's settings, the supervision levels and the ViCoKD recipe."""

    name: str
    model: dict[str, Any]
    batch: int
    frames: int
    image: int
    learning_rate: float
    weight_decay: float
    supervision_levels: dict[str, Any]
    recipe: dict[str, Any]


def load_size(name: str) -> Size:
    """The ``paper``, ``small`` or ``tiny`` size from the project's configuration."""
    params = environment_parameters("test" if name == "tiny" else "paper")
    training = params["training"]
    batch, frames = (1, 4) if name == "small" else (training["batch_size"], training["num_frames"])
    return Size(name, params["model"], batch, frames, params["model"]["visual_encoder"]["image_size"],
                training["learning_rate"], training["weight_decay"], params["supervision_levels"],
                params["runs"]["vicokd"].recipe.model_dump())


def model_config(size: Size, mode: str) -> tuple[dict[str, Any], str]:
    """The ``model`` block for ``mode`` (encoders trainable only when fine-tuned; pretrained folders
    used when present) and a note on where the encoder weights come from."""
    config = {**size.model}
    notes = []
    for key in ("visual_encoder", "audio_encoder"):
        encoder = {**config[key], "trainable": mode == "finetuned"}
        folder = ROOT / encoder["pretrained"] if encoder["pretrained"] else None
        encoder["pretrained"] = str(folder) if folder and folder.is_dir() else None
        source = f"pretrained {folder}" if encoder["pretrained"] else "randomly initialised"
        notes.append(f"{key} {source}")
        config[key] = encoder
    return config, "; ".join(notes)


class CachedEmbeddings(Dataset):
    """The clips of ``clips`` with frames and audio replaced by cached encoder embeddings at the
    sampled indices: ``frames (V, T, H_v)``, ``audio (V, T, H_a)`` float32."""

    def __init__(self, clips: MultiViewClipDataset, visual: Mapping[str, np.ndarray],
                 audio: Mapping[str, np.ndarray]):
        self.clips, self.visual, self.audio = clips, visual, audio

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, item: int) -> dict[str, Any]:
        sample = self.clips[item]
        sequence_id, indices = sample["sequence_id"], sample["indices"].numpy()
        sample["frames"] = torch.from_numpy(self.visual[sequence_id][:, indices].astype(np.float32))
        sample["audio"] = torch.from_numpy(self.audio[sequence_id][:, indices].astype(np.float32))
        return sample


def simulated_home(size: Size, mode: str, embedding_sizes: Mapping[str, int],
                   seed: int = 0) -> Dataset:
    """B training sequences of 2·T frames with random pixels and log-mels (or their embeddings:
    ``embedding_sizes`` ``{"visual": H_v, "audio": H_a}``), frame labels, masks and person
    confidence; audio always (the teacher hears it, and the student's teacher). Every sequence
    shares one array per store: a clip costs the same to read, the memory is one sequence's."""
    rng = np.random.default_rng(seed)
    n_frames = 2 * size.frames
    audio_config = size.model["audio_encoder"]
    arrays = {
        "frames": rng.integers(0, 256, (VIEWS, n_frames, size.image, size.image, 3), dtype=np.uint8),
        "audio": rng.standard_normal((VIEWS, n_frames, audio_config["max_length"],
                                      audio_config["num_mel_bins"])).astype(np.float16),
        "labels": (rng.random((n_frames, len(CLASSES))) < 0.1).astype(np.uint8),
        "masks": (rng.random((VIEWS, n_frames)) < 0.7).astype(np.uint8),
        "presence": rng.random((VIEWS, n_frames)).astype(np.float32),
    }
    if mode == "cached":
        arrays["frames"] = np.zeros((VIEWS, n_frames, 1, 1, 3), np.uint8)
    ids = [f"Home1/01/{i:02d}-Part1" for i in range(size.batch)]
    table = pd.DataFrame({"sequence_id": ids, "home": "Home1", "n_frames": n_frames,
                          "labels": [[CLASSES[i % len(CLASSES)]] for i in range(size.batch)]})
    store = {name: dict.fromkeys(ids, array) for name, array in arrays.items()}
    clips = MultiViewClipDataset(
        table, frames=store["frames"], audio=None if mode == "cached" else store["audio"],
        frame_labels=store["labels"], masks=store["masks"], presence=store["presence"],
        num_frames=size.frames, sampling="random_perturb", seed=seed)
    if mode != "cached":
        return clips
    visual = rng.standard_normal((VIEWS, n_frames, embedding_sizes["visual"])).astype(np.float16)
    audio = rng.standard_normal((VIEWS, n_frames, embedding_sizes["audio"])).astype(np.float16)
    return CachedEmbeddings(clips, dict.fromkeys(ids, visual), dict.fromkeys(ids, audio))


def batches(dataset: Dataset, batch_size: int) -> Iterator[dict[str, Any]]:
    """Shuffled batches of ``dataset``, epoch after epoch (the loop's DataLoader, no workers)."""
    epoch = 0
    while True:
        epoch += 1
        if hasattr(dataset, "clips"):
            dataset.clips.set_epoch(epoch)
        yield from DataLoader(dataset, batch_size=batch_size, shuffle=True,
                              generator=torch.Generator().manual_seed(epoch))


@dataclass
class Figures:
    """One row of the benchmark (times in seconds, memory in GiB, FLOPs per step)."""

    model: str
    mode: str
    step_s: float = math.nan
    samples_per_s: float = math.nan
    data_wait: float = math.nan
    peak_memory_gib: float | None = None
    flops: float = math.nan
    tflops: float = math.nan
    peak_share: float | None = None
    trainable_parameters: int = 0
    error: str = ""


def measure(size: Size, model_name: str, mode: str, device: torch.device, steps: int,
            peak_tflops: float | None) -> Figures:
    """Train ``steps`` timed steps (after one counted, untimed step) of one model in one mode."""
    figures = Figures(model_name, mode)
    config, _ = model_config(size, mode)
    levels = size.supervision_levels
    torch.manual_seed(0)
    try:
        if model_name == "teacher":
            model = build_model(config, with_audio=True)
            objective = Objective(Supervision.model_validate(levels["AV_F"]), Recipe())
        else:
            model = build_model(config, with_audio=False)
            teacher = build_model(config, with_audio=True).eval().requires_grad_(False)
            objective = Objective(Supervision.model_validate(levels["V_F"]),
                                  Recipe.model_validate(size.recipe), teacher)
        sizes = (objective.teacher or model).embedding_sizes
        data = batches(simulated_home(size, mode, sizes), size.batch)
        model.to(device)
        objective.to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=size.learning_rate,
                                     weight_decay=size.weight_decay)
        figures.trainable_parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)

        def step(batch: Mapping[str, Any]) -> None:
            batch = {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v
                     for k, v in batch.items()}
            with autocast_context(device):
                terms = objective(model, batch).terms
            loss = weighted_total(objective.weights, terms)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        model.train()
        counter = FlopCounterMode(display=False, custom_mapping=CPU_ATTENTION_FLOPS)
        with counter:
            step(next(data))
        figures.flops = counter.get_total_flops()
        synchronize(device)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        waited = total = 0.0
        for _ in range(steps):
            began = time.perf_counter()
            batch = next(data)
            fetched = time.perf_counter()
            step(batch)
            synchronize(device)
            waited += fetched - began
            total += time.perf_counter() - began
        figures.step_s = total / steps
        figures.samples_per_s = size.batch / figures.step_s
        figures.data_wait = waited / total
        figures.tflops = figures.flops / figures.step_s / 1e12
        if device.type == "cuda":
            figures.peak_memory_gib = torch.cuda.max_memory_allocated(device) / 2**30
        if peak_tflops:
            figures.peak_share = figures.tflops / peak_tflops
    except torch.cuda.OutOfMemoryError as error:
        figures.error = f"out of GPU memory ({str(error).splitlines()[0]})"
    return figures


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_description(device: torch.device) -> tuple[str, float | None]:
    """The device in words and its dense bf16 peak in TFLOP/s (None when unknown or the CPU)."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        memory = torch.cuda.get_device_properties(device).total_memory / 2**30
        peak = next((value for key, value in BF16_PEAK_TFLOPS.items() if key in name), None)
        return f"{name} ({memory:.0f} GiB)", peak
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    return f"CPU {cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads", None


def fmt(value: float | None, pattern: str = "") -> str:
    """``value`` with ``pattern`` (default: three significant digits, no exponent); n/a for None/NaN."""
    if value is None or math.isnan(value):
        return "n/a"
    if pattern:
        return pattern.format(value)
    decimals = max(0, 2 - math.floor(math.log10(abs(value)))) if value else 0
    return f"{value:,.{decimals}f}"


HEADER = ("model", "encoders", "trainable params", "step (s)", "samples/s", "data wait",
          "peak GPU memory (GiB)", "GFLOP/step", "achieved TFLOP/s", "of bf16 peak")


def row(figures: Figures) -> tuple[str, ...]:
    if figures.error:
        return (figures.model, figures.mode, f"{figures.trainable_parameters:,}", figures.error,
                *[""] * (len(HEADER) - 4))
    return (figures.model, figures.mode, f"{figures.trainable_parameters:,}",
            fmt(figures.step_s), fmt(figures.samples_per_s), fmt(figures.data_wait, "{:.1%}"),
            fmt(figures.peak_memory_gib, "{:.1f}"), fmt(figures.flops / 1e9), fmt(figures.tflops),
            fmt(figures.peak_share, "{:.1%}"))


def markdown(results: list[Figures], heading: str, lines: list[str]) -> str:
    """A section: heading, context lines, and one table row per (model, mode)."""
    table = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    table += ["| " + " | ".join(row(figures)) + " |" for figures in results]
    return "\n".join([heading, "", *lines, "", *table, ""])


def write_section(path: Path, key: str, text: str) -> None:
    """Put ``text`` between ``<!-- paper_gpu:key -->`` markers in ``path``: replaces the section when
    the markers are there, else appends it (creating the file); the rest of the file is kept."""
    begin, end = f"<!-- paper_gpu:{key} -->", f"<!-- /paper_gpu:{key} -->"
    block = f"{begin}\n{text.strip()}\n{end}"
    old = path.read_text() if path.is_file() else "# Performance\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    new = pattern.sub(lambda _: block, old, count=1) if pattern.search(old) else f"{old.rstrip()}\n\n{block}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new)


def context_lines(size: Size, device: torch.device, description: str, peak: float | None,
                  steps: int, command: str) -> list[str]:
    """What a table was measured on: device, date, sizes, encoder weights, steps, command."""
    model = size.model
    visual, audio = model["visual_encoder"], model["audio_encoder"]
    precision = "bf16 autocast" if device.type == "cuda" else "fp32"
    return [
        (f"- Device: {description}; bf16 peak: {fmt(peak, '{:.0f} TFLOP/s')}; {precision}; "
         f"torch {torch.__version__}; {datetime.date.today().isoformat()}."),
        (f"- Size `{size.name}`: B = {size.batch}, V = {VIEWS}, T = {size.frames}, {size.image} px, "
         f"D = {model['dim']}, backbone {model['backbone']}; ViT: patch {visual['patch_size']}, "
         f"hidden {visual['hidden_size']}, layers {visual['num_layers']}, heads {visual['num_heads']}; "
         f"AST: hidden {audio['hidden_size']}, layers {audio['num_layers']}, heads {audio['num_heads']}, "
         f"{audio['num_mel_bins']} mel bins, patch {audio['patch_size']}, strides "
         f"{audio['frequency_stride']}/{audio['time_stride']}, {audio['max_length']} spectrogram "
         f"frames per chunk."),
        f"- Encoder weights: {model_config(size, 'frozen')[1]}.",
        (f"- {steps} timed steps per row after one untimed step that counts the FLOPs; "
         f"`python benchmarks/paper_gpu.py {command}`."),
    ]


def benchmark(size: Size, device: torch.device, models: list[str], modes: list[str], steps: int,
              peak_tflops: float | None) -> list[Figures]:
    """One row per model and mode, each printed as it is measured."""
    results = []
    for model_name in models:
        for mode in modes:
            figures = measure(size, model_name, mode, device, steps, peak_tflops)
            results.append(figures)
            print(" | ".join(row(figures)), flush=True)
            gc.collect()
            if device.type == "cuda":
                torch.cuda.empty_cache()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", choices=("paper", "small", "tiny"), default=None,
                        help="default: paper on a GPU, small on the CPU")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per row")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="the device's dense bf16 peak when not in the built-in table")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "performance.md",
                        help="markdown file whose CPU or GPU section is rewritten ('-': none)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    size = load_size(args.size or ("paper" if device.type == "cuda" else "small"))
    description, peak = device_description(device)
    peak = args.peak_tflops or peak
    command = " ".join(argv if argv is not None else sys.argv[1:])
    lines = context_lines(size, device, description, peak, args.steps, command)
    print("\n".join(lines))
    print(" | ".join(HEADER))
    results = benchmark(size, device, args.models, args.modes, args.steps, peak)
    kind = "gpu" if device.type == "cuda" else "cpu"
    heading = f"## {kind.upper()} figures (size `{size.name}`)"
    if str(args.output) != "-":
        write_section(args.output, kind, markdown(results, heading, lines))
        print(f"written to {args.output}")
    return 1 if any(figures.error for figures in results) else 0


if __name__ == "__main__":
    sys.exit(main())
