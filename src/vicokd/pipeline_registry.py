"""Project pipelines: every pipeline under vicokd.pipelines, and the whole flow as __default__."""
from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

#: The order of the whole flow; a pipeline not yet present is skipped.
FLOW = (
    "simulation",
    "ingestion",
    "stratification",
    "masking",
    "teacher",
    "distill",
    "reporting",
)


def register_pipelines() -> dict[str, Pipeline]:
    """Register every pipeline found in vicokd.pipelines, plus ``__default__`` = the whole flow."""
    pipelines = find_pipelines()
    pipelines["__default__"] = sum(
        (pipelines[name] for name in FLOW if name in pipelines), Pipeline([])
    )
    return pipelines
