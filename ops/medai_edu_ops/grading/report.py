"""The class table (printed) and CSV of a grading run.

Cells hold text a submission influenced (file names in reasons): each is one line of at most
``CELL_LIMIT`` printable characters, and a cell a spreadsheet would read as a formula starts
with an apostrophe.
"""

from __future__ import annotations

import csv
from pathlib import Path

from medai_edu_ops.grading.course import Submission

CELL_LIMIT = 1_000


def _cell(text: str) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in text)[:CELL_LIMIT]
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _exercises(results: list[Submission]) -> list[str]:
    names: list[str] = []
    for result in results:
        names += [n for n in result.scores if n not in names]
    return names


def rows(results: list[Submission]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: student, notebook, one column per exercise, total, status, reason."""
    exercises = _exercises(results)
    header = ["student", "notebook", *exercises, "total", "max", "status", "reason"]
    table = []
    for r in results:
        total, most = r.total
        cells = [f"{r.scores[e][0]:g}" if e in r.scores else "" for e in exercises]
        reason = (
            "; ".join(r.reasons)
            + ("; " if r.reasons and r.manual_pending else "")
            + ("manual grading pending" if r.manual_pending else "")
        )
        table.append([_cell(c) for c in (r.student, r.notebook, *cells, f"{total:g}", f"{most:g}", r.status, reason)])
    return header, table


def table(results: list[Submission], width: int = 60) -> str:
    header, body = rows(results)
    shown = [[c if len(c) <= width else c[: width - 1] + "…" for c in row] for row in [header, *body]]
    widths = [max(len(row[i]) for row in shown) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in shown)


def write_csv(results: list[Submission], path: Path) -> Path:
    header, body = rows(results)
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([header, *body])
    return path
