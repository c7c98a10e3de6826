"""Results text written from a run's report files, so that no figure is copied by hand.

    python -m vicokd.reporting.results                       # README block + docs/results.md
    python -m vicokd.reporting.results --compare seeds_0-3/08_reporting seeds_4-7/08_reporting \
        --labels "seeds 0-3" "seeds 4-7"                      # and two seed sets side by side

Reads ``<reports>/claims.csv``, ``table1_methods.csv``, the markdown Tables 1, 3 and 4,
``report_record.json`` (commit, date, machine, settings) and, when present,
``split_class_counts.csv`` and ``run_timing.csv``; writes the README's block between :data:`START`
and :data:`END` (the verdict counts, the median Δ half-width, the run's time, a link; nothing else
of the README changes) and
``docs/results.md`` (the tables with intervals, the claims, what the intervals support and, with
``--compare``, two other runs' claims tables side by side: decided verdicts, agreements,
reversals).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vicokd.reporting import claims, tables
from vicokd.timing import TOTAL

START, END = "<!-- results:start -->", "<!-- results:end -->"
#: The report files the text is written from (``08_reporting``), beside ``report_record.json``.
REPORTS = ("claims.csv", "table1_methods.csv", "table1_methods.md", "table3_teacher.md",
           "table4_ablations.md")
DECIDED = (claims.AGREES, claims.DISAGREES)


class Reports:
    """One run's report folder, read once."""

    def __init__(self, folder: Path, label: str | None = None):
        missing = [name for name in (*REPORTS, "report_record.json") if not (folder / name).exists()]
        if missing:
            raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}: run `kedro run --pipelines "
                                    "reporting` for that data first.")
        self.folder = folder
        self.record: dict[str, Any] = json.loads((folder / "report_record.json").read_text())
        self.claims = pd.read_csv(folder / "claims.csv")
        self.table1 = pd.read_csv(folder / "table1_methods.csv")
        counts = folder / "split_class_counts.csv"
        self.split_counts = pd.read_csv(counts) if counts.exists() else None
        timing = folder / "run_timing.csv"
        self.timing = pd.read_csv(timing) if timing.exists() else None
        self.label = label or f"seeds {self.record['settings']['seeds']}"

    def markdown(self, name: str) -> str:
        """A markdown report of the folder with its heading one level down (``###``)."""
        return "#" + (self.folder / name).read_text().strip()

    def stamp(self) -> str:
        """``commit abc, 2026-12-03 09:24 UTC, Linux-… (2 CPUs, cpu)``."""
        machine = self.record["machine"]
        generated = pd.Timestamp(self.record["generated"]).strftime("%Y-%m-%d %H:%M UTC")
        return (f"commit `{self.record['commit']}`, {generated}, {machine['platform']} "
                f"({machine['cpu_count']} CPUs, {machine['device']})")

    def settings(self) -> str:
        return "; ".join(f"{key} {value}" for key, value in self.record["settings"].items())


def fewest_validation_positives(split_counts: pd.DataFrame | None, homes: list[str]) -> dict[str, int]:
    """Per evaluated home, the fewest validation sequences any class has (``split_class_counts``)."""
    if split_counts is None:
        return {}
    val = split_counts[(split_counts["split"] == "val") & split_counts["home"].isin(homes)]
    classes = [c for c in val.columns if c not in ("home", "split", "sequences")]
    return {row["home"]: int(row[classes].min()) for _, row in val.iterrows()}


def _evaluated_homes(reports: Reports) -> list[str]:
    return [c.removesuffix(" mAP") for c in reports.table1.columns
            if c.endswith(" mAP") and " frame " not in c]


def run_time_sentence(timing: pd.DataFrame | None) -> str | None:
    """How long the ``kedro run`` that wrote the reports took, stage by stage, from its
    ``run_timing.csv``; None when the latest run did not write them (no ``reporting`` row: it
    kept the reports of an earlier run, whose timing is gone) or there is no timing."""
    if timing is None or "reporting" not in set(timing["stage"]):
        return None
    seconds = dict(zip(timing["stage"], timing["seconds"]))
    stages = ", ".join(f"{stage} {_duration(value)}" for stage, value in seconds.items()
                       if stage != TOTAL)
    return (f"The `kedro run` that wrote these reports took {_duration(seconds[TOTAL])} from the "
            f"start of its pipeline to its end ({stages}; `run_timing.csv`).")


def _duration(seconds: float) -> str:
    """``43 s``, ``12 min 5 s``."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def readme_block(reports: Reports, results_link: str = "docs/results.md") -> str:
    """The README's results block, markers included: the verdict counts with where they come from,
    the median Δ half-width, the run's time (:func:`run_time_sentence`) and a link to the page
    with every table (the README stays short)."""
    width, n = tables.median_half_width(reports.table1)
    source = (f"<!-- written by `python -m vicokd.reporting.results` from {reports.folder}: "
              "regenerate, do not edit -->")
    counts = (f"**{claims.counts_sentence(reports.claims)}** ({reports.label}; intervals "
              f"{reports.record['settings']['intervals']}; {reports.stamp()}); the median half-width "
              f"of the sequence-level Δ intervals of Table 1 is {width:.1f} mAP points (over {n}).")
    link = (f"Every table with its intervals, the claims one by one and what they support: "
            f"[{results_link}]({results_link}).")
    timing = run_time_sentence(reports.timing)
    return "\n".join([START, source, counts, *([timing] if timing else []), link, END])


def write_readme_block(readme: Path, block: str) -> None:
    """Replace the text between :data:`START` and :data:`END` of ``readme`` by ``block`` (markers
    included); nothing else of the file changes."""
    text = readme.read_text()
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ValueError(f"{readme} must hold one {START} followed by one {END}.")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    readme.write_text(before + block + after)


def _decided_lines(table: pd.DataFrame) -> list[str]:
    lines = []
    for _, row in table[table["verdict"].isin(DECIDED)].iterrows():
        ours = tables.format_estimate(row["ours Δ"], row["ours Δ low"], row["ours Δ high"], 1, signed=True)
        paper = tables.format_number(row["paper Δ"], 1, signed=True)
        lines.append(f"- {row['claim']}, {row['home']}, {row['supervision']}: {ours} ({row['verdict']}; "
                     f"paper {paper})")
    return lines


def support_text(reports: Reports) -> list[str]:
    """What the intervals support: the decided claims one by one, how many are undecided, and the
    evidence behind the intervals (their median width, the fewest validation positives)."""
    counts = claims.verdict_counts(reports.claims)
    width, n = tables.median_half_width(reports.table1)
    lines = [f"{claims.counts_sentence(reports.claims)}."]
    decided = _decided_lines(reports.claims)
    if decided:
        lines += ["", "Decided (the interval lies on one side of 0):", "", *decided]
    lines += ["", (f"Undecided: {counts[claims.UNDECIDED]} claims, whose interval contains 0; this run "
                   "cannot tell their sign.")]
    if counts[claims.MISSING]:
        lines.append(f"Missing: {counts[claims.MISSING]} claims lack a model on disk.")
    evidence = (f"Evidence: the median half-width of the sequence-level Δ intervals of Table 1 is "
                f"{width:.1f} points (over {n}).")
    fewest = fewest_validation_positives(reports.split_counts, _evaluated_homes(reports))
    if fewest:
        evidence += (" Fewest positive validation sequences of any class: "
                     + ", ".join(f"{home} {count}" for home, count in fewest.items()) + ".")
    return [*lines, "", evidence]


def comparison(first: Reports, second: Reports) -> tuple[str, pd.DataFrame]:
    """Two claims tables side by side: a sentence (decided in each, agreements, reversals) and the
    rows decided in either run."""
    if first.label == second.label:
        raise ValueError(f"Both runs are labelled {first.label!r}: name them with --labels.")
    keys = ["claim", "home", "supervision"]
    joined = first.claims.merge(second.claims, on=keys, how="outer", suffixes=(" 1", " 2"))
    decided = [joined[f"verdict {i}"].isin(DECIDED) for i in (1, 2)]
    both = decided[0] & decided[1]
    same = both & (joined["verdict 1"] == joined["verdict 2"])
    reversed_ = both & ~same
    sentence = (f"{first.label}: {int(decided[0].sum())} of {len(first.claims)} verdicts decided; "
                f"{second.label}: {int(decided[1].sum())} of {len(second.claims)}. Decided in both: "
                f"{int(both.sum())}, of which {int(same.sum())} agree between the runs and "
                f"{int(reversed_.sum())} {'is' if reversed_.sum() == 1 else 'are'} reversed; decided "
                f"in one run only: {int((decided[0] ^ decided[1]).sum())}.")
    shown = joined[decided[0] | decided[1]]
    table = pd.DataFrame({
        **{key: shown[key] for key in keys},
        **{f"{reports.label} Δ{suffix}": shown[f"ours Δ{suffix} {i}"]
           for i, reports in ((1, first), (2, second)) for suffix in ("", " low", " high")},
        first.label: shown["verdict 1"], second.label: shown["verdict 2"],
        "between the runs": np.where(same[shown.index], "same", np.where(reversed_[shown.index],
                                                                        "reversed", "decided once")),
    })
    ordered = keys + [c for r in (first, second) for c in (f"{r.label} Δ", f"{r.label} Δ low",
                                                           f"{r.label} Δ high", r.label)]
    return sentence, table[[*ordered, "between the runs"]]


def results_page(reports: Reports, pair: tuple[Reports, Reports] | None = None) -> str:
    """``docs/results.md``: where it comes from, what the intervals support, the claims and Tables 1,
    3 and 4 with their intervals; with ``pair`` (two runs on the same data, e.g. two seed sets),
    their claims tables side by side and in full."""
    source = (f"Written by `python -m vicokd.reporting.results` from `{reports.folder}` "
              f"({reports.stamp()}); regenerate it rather than editing it.")
    lines = ["# Results", "", source, "", f"Settings: {reports.settings()}.", "",
             "## What the intervals support", "", *support_text(reports), ""]
    if pair is not None:
        first, second = pair
        sentence, table = comparison(first, second)
        origin = "; ".join(f"{r.label}: `{r.folder}`, {r.stamp()}, settings: {r.settings()}" for r in pair)
        lines += [f"## Two runs: {first.label} and {second.label}", "", f"{origin}.", "", sentence, "",
                  tables.to_markdown(table, "", digits=1).strip(), ""]
    for name in ("claims.md", "table1_methods.md", "table3_teacher.md", "table4_ablations.md"):
        lines += [reports.markdown(name), ""]
    for other in pair or ():
        lines += [f"## Claims of {other.label}", "",
                  other.markdown("claims.md").split("\n", 1)[1].strip(), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=Path, default=Path("data/08_reporting"),
                        help="the run's report folder (default: data/08_reporting)")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("FIRST", "SECOND"),
                        help="two runs' report folders on the same data (e.g. two seed sets), set "
                             "side by side")
    parser.add_argument("--labels", nargs=2, metavar=("FIRST", "SECOND"),
                        help="names of the two compared runs (default: their seeds)")
    parser.add_argument("--readme", type=Path, default=Path("README.md"))
    parser.add_argument("--results", type=Path, default=Path("docs/results.md"))
    args = parser.parse_args(argv)
    labels = args.labels or (None, None)
    reports = Reports(args.reports)
    pair = (Reports(args.compare[0], labels[0]), Reports(args.compare[1], labels[1])) if args.compare else None
    page = results_page(reports, pair)
    block = readme_block(reports, results_link=args.results.as_posix())
    write_readme_block(args.readme, block)  # checks the markers before anything is written
    args.results.write_text(page)
    print(f"Wrote the results block of {args.readme} and {args.results}.")


if __name__ == "__main__":
    main()
