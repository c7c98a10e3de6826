"""Decode throughput of ingestion against a bare PyAV decode of the same files.

    .venv/bin/python benchmarks/decode_throughput.py [--dataset-root data/01_raw/multisensor_home]

The bare decode demuxes and decodes every video and audio frame of every view (no conversion,
resizing or features); ingestion does the whole job (decode, 2.5-FPS sampling, resizing, resampling,
log-mel features, frame labels). Both in one process (PyAV's own threads on), then ingestion with
worker processes. Prints native video frames per second, MB of mp4 per second and the ratio. The
defaults, and the audio settings, are conf/base's ``ingestion`` block.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import av
from model_cost import environment_parameters

from vicokd.data.annotations import read_home
from vicokd.data.description import DatasetDescription
from vicokd.data.ingest import IngestionParameters, ingest_dataset


def bare_decode(paths: list[Path]) -> int:
    """Decode every frame of ``paths``; return the number of video frames."""
    frames = 0
    for path in paths:
        with av.open(str(path)) as container:
            container.streams.video[0].thread_type = "AUTO"
            for packet in container.demux(
                *container.streams.video[:1], *container.streams.audio[:1]
            ):
                for frame in packet.decode():
                    frames += isinstance(frame, av.VideoFrame)
    return frames


def line(name: str, frames: int, megabytes: float, seconds: float) -> str:
    return f"{name:<28} {seconds:7.2f} s {frames / seconds:9.0f} frames/s {megabytes / seconds:8.2f} MB/s"


def main() -> None:
    parameters = environment_parameters("base")
    ingestion = IngestionParameters.model_validate(parameters["ingestion"])
    dataset = DatasetDescription.model_validate(parameters["dataset"])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset-root", default=ingestion.dataset_root)
    parser.add_argument("--homes", nargs="+", default=ingestion.homes)
    parser.add_argument("--image-size", nargs=2, type=int, default=ingestion.image_size)
    parser.add_argument("--workers", type=int, default=ingestion.num_workers)
    args = parser.parse_args()
    root = Path(args.dataset_root)
    paths = [
        root / p
        for home in args.homes
        for spec in read_home(root, home, dataset)[0]
        for p in spec.view_paths
    ]
    paths = [p for p in paths if p.is_file()]
    megabytes = sum(p.stat().st_size for p in paths) / 1e6
    print(f"{len(paths)} mp4 files, {megabytes:.1f} MB under {root}")

    start = time.perf_counter()
    frames = bare_decode(paths)
    bare_seconds = time.perf_counter() - start
    print(line("bare PyAV decode", frames, megabytes, bare_seconds))

    for workers in (0, args.workers):
        settings = ingestion.settings(dataset).model_copy(
            update={"image_size": tuple(args.image_size), "num_workers": workers})
        report = ingest_dataset(root, args.homes, settings, keep=lambda sequence: None)
        print(
            line(
                f"ingestion ({workers} workers)",
                report.native_frames,
                report.bytes_read / 1e6,
                report.seconds,
            )
            + f"  ratio to bare: {bare_seconds / report.seconds * report.bytes_read / 1e6 / megabytes:.2f}"
        )


if __name__ == "__main__":
    main()
