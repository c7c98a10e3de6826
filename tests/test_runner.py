"""The runner of ``kedro run`` keeps the reports while nothing they are computed from changes: a
toy flow (one node before reporting, two reporting nodes) on files in ``tmp_path``."""
import json
import os

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro_datasets.json import JSONDataset
from kedro_datasets.text import TextDataset

from vicokd.reporting import currency
from vicokd.runner import ReportReusingRunner


class Flow:
    """``x -> double -> y`` then the reporting stage ``y, params:unit -> render -> pending ->
    publish -> report``; counts the renders."""

    def __init__(self, folder):
        self.folder = folder
        self.renders = 0
        self.fail = False
        self.catalog = DataCatalog({
            "x": JSONDataset(filepath=str(folder / "x.json")),
            "y": JSONDataset(filepath=str(folder / "y.json")),
            "pending": MemoryDataset(),
            "report": TextDataset(filepath=str(folder / "report.md")),
            currency.RECORD: JSONDataset(filepath=str(folder / "report_inputs.json")),
        })
        self.catalog["params:unit"] = "mm"
        self.catalog.save("x", 2)
        self.before = Pipeline([Node(lambda x: 2 * x, "x", "y", name="double")])
        self.stage = Pipeline([Node(self._render, ["y", "params:unit"], "pending", name="render"),
                               Node(lambda text: text, "pending", "report", name="publish")])

    def _render(self, y, unit):
        self.renders += 1
        if self.fail:
            raise RuntimeError("the rendering failed")
        return f"y = {y} {unit}"

    def run(self, pipeline=None):
        runner = ReportReusingRunner(stage=self.stage)
        runner.run(pipeline or self.before + self.stage, self.catalog)

    @property
    def record(self):
        return json.loads((self.folder / "report_inputs.json").read_text())


@pytest.fixture
def flow(tmp_path):
    flow = Flow(tmp_path)
    flow.run()
    return flow


def test_a_second_run_keeps_the_reports_and_rewrites_nothing(flow, caplog):
    report = flow.folder / "report.md"
    assert report.read_text() == "y = 4 mm" and flow.renders == 1
    written, record = report.stat().st_mtime_ns, flow.record
    assert set(record["parts"]) == {"inputs", "outputs", "code", "libraries"}
    with caplog.at_level("INFO", logger="vicokd.runner"):
        flow.run()
    assert flow.renders == 1
    assert report.stat().st_mtime_ns == written and flow.record == record
    assert "the 2 nodes are skipped and the reports kept" in caplog.text


@pytest.mark.parametrize("change, reason", [
    (lambda flow: flow.catalog.save("x", 3), "changed: inputs.y"),  # new data upstream
    (lambda flow: flow.catalog.__setitem__("params:unit", "cm"), "changed: inputs.params:unit"),
    (lambda flow: (flow.folder / "report.md").unlink(), "missing: report"),
    (lambda flow: (flow.folder / "report_inputs.json").unlink(), "no record"),
])
def test_a_changed_input_or_a_missing_report_writes_them_again_and_says_why(flow, caplog, change,
                                                                             reason):
    change(flow)
    with caplog.at_level("INFO", logger="vicokd.runner"):
        flow.run()
    assert flow.renders == 2
    assert f"Reporting: writing the reports ({reason}" in caplog.text
    assert (flow.folder / "report.md").read_text().startswith("y = ")
    flow.run()  # and then they are current again
    assert flow.renders == 2


def test_a_failed_report_leaves_no_record_so_the_next_run_writes_them(flow):
    flow.catalog["params:unit"] = "cm"
    flow.fail = True
    with pytest.raises(RuntimeError, match="the rendering failed"):
        flow.run()
    assert flow.record == {}
    flow.fail = False
    flow.run()
    assert flow.renders == 3 and (flow.folder / "report.md").read_text() == "y = 4 cm"


def test_part_of_the_stage_runs_as_kedro_runs_it_and_forgets_the_record(flow):
    flow.run(flow.before + Pipeline([flow.stage.nodes[0]]))  # `--nodes double,render`
    assert flow.renders == 2 and flow.record == {}
    flow.run()
    assert flow.renders == 3 and flow.record["fingerprint"]


def test_a_reporting_input_only_in_memory_is_never_taken_as_current(tmp_path):
    flow = Flow(tmp_path)
    flow.catalog["y"] = MemoryDataset()  # `y` lives in this run only: nothing on disk to compare
    flow.run()
    flow.run()
    assert flow.renders == 2


def test_files_by_content_and_array_store_members_by_size_and_time(tmp_path):
    table, array = tmp_path / "table.csv", tmp_path / "frames.npy"
    table.write_text("a,b\n1,2\n")
    array.write_bytes(b"\x00" * 64)
    before = currency.path_digest(tmp_path)
    table.write_text("a,b\n1,2\n")  # rewritten, same bytes
    assert currency.path_digest(tmp_path) == before
    table.write_text("a,b\n1,3\n")
    assert currency.path_digest(tmp_path) != before
    table.write_text("a,b\n1,2\n")
    stat = array.stat()
    array.write_bytes(b"\x01" * 64)  # same size: told apart by the modification time
    os.utime(array, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert currency.path_digest(tmp_path) != before
    assert currency.path_digest(tmp_path / "absent") == "missing"


def test_the_code_digest_follows_every_source_file_but_not_bytecode(tmp_path):
    package = tmp_path / "vicokd"
    (package / "__pycache__").mkdir(parents=True)
    (package / "tables.py").write_text("LEVELS = ('sequence',)\n")
    before = currency.source_digest(package)
    (package / "__pycache__" / "tables.cpython-311.pyc").write_bytes(b"\x00")
    assert currency.source_digest(package) == before
    (package / "tables.py").write_text("LEVELS = ('sequence', 'frame')\n")
    assert currency.source_digest(package) != before


def test_kedro_viz_records_the_workflow_of_a_run_with_this_runner():
    """kedro-viz writes its run events only for Kedro's sequential runner, told by the runner's text
    in the run parameters (Kedro's session passes ``str(runner)``)."""
    from kedro_viz.integrations.kedro.hooks_utils import is_sequential_runner

    assert is_sequential_runner({"runner": str(ReportReusingRunner())})
