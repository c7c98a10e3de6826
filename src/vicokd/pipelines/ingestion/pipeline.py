"""The ingestion pipeline: one node that decodes every recording once."""

from kedro.pipeline import Node, Pipeline

from vicokd.pipelines.ingestion.nodes import ingest_recordings


def create_pipeline(**kwargs) -> Pipeline:
    """Recordings → ``sequences``, ``frames``, ``audio_features``, ``frame_labels``, ``ingestion_report``."""
    return Pipeline(
        [
            Node(
                ingest_recordings,
                ["recordings_manifest", "params:ingestion"],
                ["sequences", "frames", "audio_features", "frame_labels", "ingestion_report"],
                name="ingest_recordings",
            ),
        ]
    )
