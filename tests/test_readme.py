"""The README stays short and its links and wording hold: the documentation a newcomer reads first."""
import re
from pathlib import Path

import pytest

from vicokd.reporting import results

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
#: Wording that only makes sense inside the team that wrote the project, or goes stale: the machine
#: a page was written on, files outside the repository, a configuration folder that does not exist,
#: a count of tests.
TEAM_ONLY = [r"\bthis machine\b", r"\(looked at\)", r"\.\./shared", r"\bDESIGN\.md\b", r"\bPAPER\.md\b",
             r"\bconf/benchmark\b", r"\bwas lent\b", r"\b\d+ tests\b"]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def test_the_readme_is_at_most_150_lines_and_shows_the_two_commands_first():
    lines = README.read_text().splitlines()
    assert len(lines) <= 150
    first = "\n".join(lines[:30])
    assert "make run" in first and "make test" in first


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_no_team_only_wording(page):
    text = page.read_text()
    found = [match.group(0) for pattern in TEAM_ONLY for match in re.finditer(pattern, text)]
    assert not found, f"{page.relative_to(ROOT)}: {found}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_points_to_a_file_of_the_repository(page):
    targets = [target for target in LINK.findall(page.read_text())
               if not re.match(r"[a-z]+:", target) and not target.startswith("#")]
    missing = [target for target in targets if not (page.parent / target.split("#")[0]).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"


def test_the_readme_holds_one_short_generated_results_block():
    """`python -m vicokd.reporting.results` can write it (one start, then one end marker), and it
    holds the verdict counts and a link, not the tables."""
    text = README.read_text()
    assert text.count(results.START) == 1 and text.count(results.END) == 1
    block = text.split(results.START, 1)[1].split(results.END, 1)[0]
    assert text.index(results.START) < text.index(results.END)
    assert len(block.strip().splitlines()) <= 4 and "|---" not in block
