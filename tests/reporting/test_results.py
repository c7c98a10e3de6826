"""`python -m vicokd.reporting.results`: the README block and docs/results.md from report files."""
import json

import pandas as pd
import pytest

from vicokd.reporting import results

README = """# project

Prose before the results.

## Results
{block}

Prose after the results, kept as it is.
"""


def _reports(folder, verdicts: dict[str, str], seeds: str = "0, 1, 2", commit: str = "abc123def456"):
    """A report folder as the reporting pipeline writes it: two homes, Table 1 with two rows,
    one claim per entry of ``verdicts`` (claim name → verdict)."""
    folder.mkdir(parents=True)
    rows = []
    for claim, verdict in verdicts.items():
        low, high = {"agrees": (1.0, 5.0), "disagrees": (-5.0, -1.0), "undecided": (-2.0, 2.0),
                     "missing": (float("nan"), float("nan"))}[verdict]
        rows.append({"claim": claim, "home": "Home1", "supervision": "V_F", "paper Δ": 3.0,
                     "ours Δ": (low + high) / 2, "ours Δ low": low, "ours Δ high": high, "seeds": 3,
                     "verdict": verdict})
    pd.DataFrame(rows).to_csv(folder / "claims.csv", index=False)
    table1 = pd.DataFrame({
        "backbone": ["multitsf"] * 2, "method": ["Student", "ViCoKD"], "supervision": ["V_F"] * 2,
        **{f"{home} {column}": values for home in ("Home1", "Home2") for column, values in {
            "seeds": [3, 3], "mAP": [50.0, 53.25], "mAP low": [45.0, 48.0], "mAP high": [60.0, 61.0],
            "Δ": [float("nan"), 3.25], "Δ low": [float("nan"), -1.0], "Δ high": [float("nan"), 7.0],
            "frame mAP": [20.0, 21.0], "frame mAP low": [18.0, 19.0], "frame mAP high": [25.0, 26.0],
            "frame Δ": [float("nan"), 1.0], "frame Δ low": [float("nan"), -9.0],
            "frame Δ high": [float("nan"), 11.0]}.items()}})
    table1.to_csv(folder / "table1_methods.csv", index=False)
    for name, title in (("claims.md", "Claims of the paper"), ("table1_methods.md", "Table 1: methods"),
                        ("table3_teacher.md", "Table 3: teacher"), ("table4_ablations.md", "Table 4: ablations")):
        (folder / name).write_text(f"## {title}\n\n| {title} row |\n")
    (folder / "report_record.json").write_text(json.dumps({
        "generated": "2026-12-03T09:24:00+00:00", "commit": commit,
        "machine": {"platform": "Linux-test", "cpu_count": 2, "device": "cpu", "python": "3.11", "torch": "2"},
        "settings": {"backbone": "multitsf", "seeds": seeds, "intervals": "95% over test sequences and seeds"}}))
    pd.DataFrame({"home": ["Home1", "Home1", "Home2", "Home3"], "split": ["val", "test", "val", "val"],
                  "sequences": [6, 21, 8, 6], "Eat": [1, 3, 4, 0], "Drink": [2, 3, 3, 0]}).to_csv(
        folder / "split_class_counts.csv", index=False)
    return folder


def test_the_readme_block_is_what_the_writer_writes_and_nothing_else_changes(tmp_path):
    reports = _reports(tmp_path / "08_reporting", {"Teacher > Student": "agrees", "ViCoKD > CoKD": "undecided",
                                                   "CoKD > Student": "disagrees"})
    readme = tmp_path / "README.md"
    readme.write_text(README.format(block=f"{results.START}\nold figures\n{results.END}"))
    page = tmp_path / "results.md"

    results.main(["--reports", str(reports), "--readme", str(readme), "--results", str(page)])

    block = results.readme_block(results.Reports(reports), results_link=str(page))
    assert readme.read_text() == README.format(block=block)  # only the block changed
    # The README holds the verdict counts and a link; the tables stay in docs/results.md.
    counts = ("**Of 3 claims of the paper tested, 1 agree, 1 disagrees and 1 is undecided** (seeds 0, 1, 2; "
              "intervals 95% over test sequences and seeds; commit `abc123def456`, 2026-12-03 09:24 UTC, "
              "Linux-test (2 CPUs, cpu)); the median half-width of the sequence-level Δ intervals of "
              "Table 1 is 4.0 mAP points (over 2).")  # (7 − (−1)) / 2 in both homes
    link = f"Every table with its intervals, the claims one by one and what they support: [{page}]({page})."
    source = f"<!-- written by `python -m vicokd.reporting.results` from {reports}: regenerate, do not edit -->"
    assert block.splitlines() == [results.START, source, counts, link, results.END]

    text = page.read_text()
    assert "commit `abc123def456`, 2026-12-03 09:24 UTC, Linux-test (2 CPUs, cpu)" in text
    assert "- Teacher > Student, Home1, V_F: +3.0 [+1.0, +5.0] (agrees; paper +3.0)" in text
    assert "- CoKD > Student, Home1, V_F: −3.0 [−5.0, −1.0] (disagrees; paper +3.0)" in text
    assert "Undecided: 1 claims, whose interval contains 0" in text
    assert "Fewest positive validation sequences of any class: Home1 1, Home2 3." in text  # not Home3
    for title in ("### Claims of the paper", "### Table 1: methods", "### Table 3: teacher", "### Table 4: ablations"):
        assert title in text


def _timing(folder, stages: dict[str, float]) -> None:
    rows = [{"stage": stage, "seconds": seconds, "items": 1, "unit": "x", "items_per_second": 1.0}
            for stage, seconds in stages.items()]
    pd.DataFrame(rows).to_csv(folder / "run_timing.csv", index=False)


def test_the_readme_block_gives_the_time_of_the_run_that_wrote_the_reports(tmp_path):
    reports = _reports(tmp_path / "08_reporting", {"Teacher > Student": "agrees"})
    _timing(reports, {"simulation": 59.6, "training": 1805.2, "reporting": 150.0, "total": 2725.4})
    block = results.readme_block(results.Reports(reports)).splitlines()
    # 2725.4 s = 45 min 25 s; 1805.2 s = 30 min 5 s; 59.6 s rounds to 1 min 0 s
    assert block[3] == ("The `kedro run` that wrote these reports took 45 min 25 s from the start of its "
                        "pipeline to its end (simulation 1 min 0 s, training 30 min 5 s, reporting 2 min 30 s; "
                        "`run_timing.csv`).")
    # A later run that kept the reports (no reporting row) says nothing of a time it did not measure.
    _timing(reports, {"simulation": 3.0, "training": 10.5, "total": 31.4})
    block = results.readme_block(results.Reports(reports)).splitlines()
    assert len(block) == 5 and not any("took" in line for line in block)


def test_two_runs_side_by_side_count_decided_verdicts_agreements_and_reversals(tmp_path):
    first = _reports(tmp_path / "a", {"A > B": "agrees", "C > D": "agrees", "E > F": "undecided",
                                      "G > H": "disagrees"})
    second = _reports(tmp_path / "b", {"A > B": "agrees", "C > D": "disagrees", "E > F": "agrees",
                                       "G > H": "undecided"}, seeds="3, 4, 5", commit="fedcba987654")
    sentence, table = results.comparison(results.Reports(first), results.Reports(second))
    assert sentence == ("seeds 0, 1, 2: 3 of 4 verdicts decided; seeds 3, 4, 5: 3 of 4. Decided in both: 2, "
                        "of which 1 agree between the runs and 1 is reversed; decided in one run only: 2.")
    assert table["between the runs"].tolist() == ["same", "reversed", "decided once", "decided once"]
    assert table["seeds 3, 4, 5"].tolist() == ["agrees", "disagrees", "agrees", "undecided"]
    readme = tmp_path / "README.md"
    readme.write_text(README.format(block=f"{results.START}\n{results.END}"))
    results.main(["--reports", str(first), "--compare", str(first), str(second), "--readme", str(readme),
                  "--results", str(tmp_path / "results.md"), "--labels", "seeds 0-2", "seeds 3-5"])
    text = (tmp_path / "results.md").read_text()
    assert "## Two runs: seeds 0-2 and seeds 3-5" in text and "commit `fedcba987654`" in text
    assert "| C > D | Home1 | V_F | +3.0 [+1.0, +5.0] | agrees | −3.0 [−5.0, −1.0] | disagrees | reversed |" in text
    assert "## Claims of seeds 0-2" in text and "## Claims of seeds 3-5" in text


def test_bad_markers_or_missing_reports_write_nothing(tmp_path):
    reports = _reports(tmp_path / "08_reporting", {"A > B": "agrees"})
    readme, page = tmp_path / "README.md", tmp_path / "results.md"
    readme.write_text("# project\n\nno markers\n")
    with pytest.raises(ValueError, match="README.md must hold one <!-- results:start -->"):
        results.main(["--reports", str(reports), "--readme", str(readme), "--results", str(page)])
    assert readme.read_text() == "# project\n\nno markers\n" and not page.exists()
    (reports / "claims.csv").unlink()
    with pytest.raises(FileNotFoundError, match="08_reporting lacks claims.csv"):
        results.Reports(reports)
