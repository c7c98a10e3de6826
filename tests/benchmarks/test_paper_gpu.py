"""benchmarks/paper_gpu.py at the smallest size on the CPU: every figure printed and written."""
from __future__ import annotations

import re

import pytest
import torch

from project_parameters import load_parameters, random_model_config
from vicokd.models import build_model


@pytest.fixture
def paper_gpu(import_benchmark):
    module = import_benchmark("paper_gpu")
    threads = torch.get_num_threads()  # --threads sets them for the whole process
    yield module
    torch.set_num_threads(threads)


def table_rows(text: str) -> list[list[str]]:
    """The cells of the markdown table's body rows."""
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row] for row in rows[1:]]


def number(cell: str) -> float:
    return float(cell.replace(",", "").rstrip("%"))


def test_tiny_cpu_run_prints_and_writes_every_figure(paper_gpu, tmp_path, capsys):
    output = tmp_path / "performance.md"
    output.write_text("# Performance\n\nKept text.\n\n<!-- paper_gpu:cpu -->\nold\n<!-- /paper_gpu:cpu -->\n")
    args = ["--device", "cpu", "--size", "tiny", "--steps", "1", "--threads", "1", "--output", str(output)]
    assert paper_gpu.main(args) == 0
    printed = capsys.readouterr().out
    assert "bf16 peak: n/a" in printed and "B = 2, V = 5, T = 4, 32 px" in printed

    text = output.read_text()
    assert text.startswith("# Performance\n\nKept text.\n") and "old" not in text
    assert text.count("<!-- paper_gpu:cpu -->") == 1 and "## CPU figures (size `tiny`)" in text
    rows = table_rows(text)
    assert [(r[0], r[1]) for r in rows] == [(m, e) for m in ("teacher", "vicokd")
                                            for e in ("cached", "frozen", "finetuned")]
    batch = load_parameters("test")["training"]["batch_size"]
    figures = {}
    for model, mode, trainable, step, rate, wait, memory, gflop, tflops, share in rows:
        assert memory == "n/a" and share == "n/a"
        assert number(step) > 0 and number(rate) * number(step) == pytest.approx(batch, rel=0.02)
        assert 0 <= number(wait) <= 100 and number(gflop) > 0
        assert number(tflops) == pytest.approx(number(gflop) / 1e3 / number(step), rel=0.02)
        figures[model, mode] = number(trainable), number(gflop)
        assert f"{model} | {mode} | {trainable} | {step}" in printed

    # encoders: frozen adds their forward pass, fine-tuning their backward pass and their weights
    teacher = build_model(random_model_config("test"), with_audio=True)
    vit = sum(p.numel() for p in teacher.visual_encoder.vit.parameters())
    ast = sum(p.numel() for p in teacher.audio_encoder.ast.parameters())
    for model, encoders in (("teacher", vit + ast), ("vicokd", vit)):
        (cached, cached_flops), (frozen, frozen_flops), (tuned, tuned_flops) = (
            figures[model, mode] for mode in ("cached", "frozen", "finetuned"))
        assert cached == frozen and tuned - frozen == encoders
        assert cached_flops < frozen_flops < tuned_flops


def test_sections_are_replaced_or_appended(paper_gpu, tmp_path):
    path = tmp_path / "docs" / "performance.md"
    paper_gpu.write_section(path, "gpu", "## GPU figures\none")
    paper_gpu.write_section(path, "cpu", "## CPU figures\ntwo")
    paper_gpu.write_section(path, "gpu", "## GPU figures\nthree")
    text = path.read_text()
    assert re.findall(r"<!-- paper_gpu:(\w+) -->", text) == ["gpu", "cpu"]
    assert "three" in text and "two" in text and "one" not in text
