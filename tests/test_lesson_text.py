"""What a student reads agrees with itself: section times, references to what is above or below, units.

- Each section heading's time equals the lesson's time table, and the stated total is the sum of the
  core sections (the optional part for programmers comes on top).
- Every "above"/"below" either points at the cell next to it (the check below it, the explorer
  above) or names a numbered figure, table, section or question that exists in the lesson; every
  "Figure N", "Table N", "Section N" and "Question N" the text names exists.
- Shares are written in percent in every lesson, in the text and in the lessons' tables.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]


def _markdown(path) -> str:
    nb = nbformat.read(path, as_version=4)
    text = "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "", text, flags=re.DOTALL)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?:;])\s+|\n+", text) if s.strip()]


# --------------------------------------------------------------------------------------------
# Section times
# --------------------------------------------------------------------------------------------

TABLE_ROW = re.compile(r"^\|\s*(\d+\.\s[^|]*?|For programmers \(optional\))\s*\|\s*(\d+) min\s*\|", re.MULTILINE)
HEADING = re.compile(r"^## (\d+\.\s.*?|For programmers) \((?:optional, )?(\d+) min\)\s*$", re.MULTILINE)


def _section(name: str) -> str:
    """'3' for '3. Explore: ...', 'For programmers' for the optional part (a table may shorten a title)."""
    return name.split(".")[0] if name[0].isdigit() else "For programmers"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_section_times_match_the_lessons_table(path):
    text = _markdown(path)
    table = {_section(name): int(minutes) for name, minutes in TABLE_ROW.findall(text)}
    headings = {_section(name): int(minutes) for name, minutes in HEADING.findall(text)}
    assert table, f"{path.name} has no time table"
    assert headings == table, f"{path.name}: headings {headings} differ from the time table {table}"
    total = int(re.search(r"Estimated time: about (\d+) minutes", text).group(1))
    core = sum(minutes for name, minutes in table.items() if name != "For programmers")
    assert total == core, f"{path.name}: 'about {total} minutes', but the core sections add up to {core}"


# --------------------------------------------------------------------------------------------
# References: above, below, Figure N, Table N, Section N, Question N
# --------------------------------------------------------------------------------------------

NUMBERED = re.compile(r"\b(Figure|Table|Section|Question)s? (\d+)\b")
#: "above"/"below" that point at a neighbouring cell, or compare a value (above 1, below the threshold)
LOCAL = re.compile(
    r"\b(cells?|check(?: cell)?|explorer|sliders?|question)\s+(below|above)\b"
    r"|\b(below|above)\s+(it|the cell|the sliders)\b"
    r"|\b(below|above)\*{0,2}\s+(\d|both|the threshold|the reader's line|it\b)",
    re.IGNORECASE,
)


def _existing(text: str) -> set[tuple[str, str]]:
    found = {("Figure", n) for n in re.findall(r"\*Figure (\d+)\.", text)}
    found |= {("Table", n) for n in re.findall(r"\*Table (\d+)\.", text)}
    found |= {("Section", n) for n in re.findall(r"^## (\d+)\.", text, re.MULTILINE)}
    found |= {("Question", n) for n in re.findall(r"^### Question (\d+)\b", text, re.MULTILINE)}
    return found


def unresolved_references(text: str) -> list[str]:
    """Sentences whose "above"/"below" points nowhere, and numbered items the text names but does not have."""
    existing = _existing(text)
    problems = []
    for sentence in _sentences(text):
        plain = re.sub(r"^(Lesson|Lessons) \d.*", "", sentence)
        named = [(kind, n) for kind, n in NUMBERED.findall(plain) if not re.search(rf"Lessons? \d+'s {kind}", plain)]
        for kind, n in named:
            if (kind, n) not in existing and not re.search(r"\bLessons? \d", plain):
                problems.append(f"{kind} {n} does not exist: {sentence.strip()}")
        for word in re.finditer(r"\b(below|above)\b", plain, re.IGNORECASE):
            near = plain[max(0, word.start() - 30) : word.end() + 30]
            if not LOCAL.search(near) and not named:
                problems.append(f"'{word.group(0)}' points nowhere: {sentence.strip()}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_reference_above_or_below_resolves(path):
    problems = unresolved_references(_markdown(path))
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_the_reference_check_catches_a_dangling_see_below():
    text = "## 1. A (5 min)\n\nIts interval (see below) runs from 1 to 2.\n\n*Figure 1. A map.*"
    assert unresolved_references(text) == ["'below' points nowhere: Its interval (see below) runs from 1 to 2."]
    assert unresolved_references("As Figure 2 shows.") == ["Figure 2 does not exist: As Figure 2 shows."]
    fine = "*Table 3. Intervals.*\n\nIts interval in Table 3 below runs from 1 to 2. Run the check below it."
    assert unresolved_references(fine) == []


# --------------------------------------------------------------------------------------------
# One unit for shares: percent
# --------------------------------------------------------------------------------------------

#: a share written as a fraction in the text ("0.2 of the patch", "a share of 0.3")
FRACTION_SHARE = re.compile(
    r"\b0\.\d+\s+of (the )?(patch|cases|people|images|scans|test|raters|samples)|\bshare of 0\.\d", re.IGNORECASE
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_shares_are_written_in_percent(path):
    text = _markdown(path)
    assert not FRACTION_SHARE.findall(text), f"{path.name} writes a share as a fraction: write it in percent"


def test_lesson_3_tables_give_shares_in_percent():
    from medai_edu.lessons import uncertainty

    effects = uncertainty.lecture_shift_effects()
    assert all(column.endswith("(%)") for row in effects.values() for column in row)
    assert any(value > 1 for row in effects.values() for value in row.values()), "percent, not fractions"


def test_lesson_4_tables_give_shares_in_percent():
    from medai_edu.lessons import human_with_ai

    benchmark = human_with_ai.reference_benchmark()
    shares = [row for row in benchmark.index if not row.startswith("ECE")]
    assert all("%" in row for row in shares), shares
    assert benchmark.loc[shares].to_numpy().max() > 1, "percent, not fractions"
    table = human_with_ai.quality_table(human_with_ai.load_study())
    assert "%" in table.index.name and table.to_numpy().max() > 1
