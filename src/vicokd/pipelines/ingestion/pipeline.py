"""The ingestion pipeline: one node that decodes every recording once.

Its outputs are saved in the order listed: the array stores first, the ``sequences`` table last.
The table is the commit record: until it is replaced, readers keep pairing the previous table with
the previous arrays (see vicokd.datasets.array_store). The node also reads that record as
``committed_ingestion`` (the same file): when its inputs did not change, nothing is decoded."""

from kedro.pipeline import Node, Pipeline

from vicokd.pipelines.ingestion.nodes import ingest_recordings


def create_pipeline(**kwargs) -> Pipeline:
    """Recordings → ``frames``, ``log_mels``, ``frame_labels``, ``ingestion_report``, ``sequences``."""
    return Pipeline(
        [
            Node(
                ingest_recordings,
                ["recordings_manifest", "committed_ingestion", "params:ingestion",
                 "params:pretraining.homes", "params:simulation.enabled", "params:dataset"],
                ["frames", "log_mels", "frame_labels", "ingestion_report", "sequences"],
                name="ingest_recordings",
            ),
        ]
    )
