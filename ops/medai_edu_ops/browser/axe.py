"""Accessibility checks with axe-core (installed from npm by `make test`) inside the page."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page


AXE_JS = Path(os.environ.get("MEDAI_AXE", Path(sys.prefix) / "axe" / "node_modules" / "axe-core" / "axe.min.js"))
SEVERE = ("critical", "serious")


def axe_missing() -> str | None:
    return None if AXE_JS.exists() else f"axe-core is not at {AXE_JS}: run `make test` (it installs axe-core from npm)"


def run_axe(page: Page, include: list[str]) -> list[dict]:
    """axe-core's violations in the elements matching ``include`` (CSS selectors), each with its nodes' targets."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        """async (include) => {
        const found = include.filter(sel => document.querySelector(sel));
        if (!found.length) return [];
        const r = await axe.run({include: found.map(sel => [sel])}, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.map(n => n.target.join(' '))}));
    }""",
        include,
    )
    return result


def severe(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in SEVERE]


def summary(violations: list[dict]) -> str:
    if not violations:
        return "none"
    return "; ".join(f"{v['id']} ({v['impact']}, {len(v['nodes'])} elements: {v['help']})" for v in violations)
