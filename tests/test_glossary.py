"""The course glossary: every term a clinician meets has a heading, and every link to it resolves.

JupyterLab gives each Markdown heading the id "heading text with spaces replaced by '-'" and
matches a link's #fragment against it case-sensitively, so `glossary.md#latent-variable` needs a
heading `### latent variable`.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from conftest import ROOT

GLOSSARY = ROOT / "solutions" / "00_welcome" / "glossary.md"
NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb"))

#: terms other lessons link to by these exact headings
REQUIRED = [
    "NCC",
    "U-Net",
    "GAN",
    "generator",
    "critic",
    "T1-weighted",
    "tensor",
    "latent variable",
    "KL divergence",
    "GED",
    "S_NCC",
    "Dice",
    "calibration",
    "saliency map",
    "VA-GAN",
    "classifier",
    "AUC",
    "sensitivity",
    "specificity",
    "PPV",
    "segmentation",
    "softmax",
    "Grad-CAM",
    "integrated gradients",
    "occlusion",
    "guided backprop",
    "overfitting",
    "validation set",
    "test set",
    "checkpoint",
    "atrophy",
    "hippocampus",
    "ventricles",
    "MCI",
    "Alzheimer's disease",
    "oedema",
    "Probabilistic U-Net",
    "PHiSeg",
    "bootstrap",
    "confidence interval",
    "Wasserstein distance",
    "ground truth",
    "effect map",
]
#: a link to the glossary from a lesson: [text](glossary.md#anchor) or [text](../00_welcome/glossary.md#anchor)
LINK = re.compile(r"\]\(((?:\.\./00_welcome/)?glossary\.md)(?:#([^)\s]*))?\)")
#: a link inside the glossary to one of its own terms
OWN_LINK = re.compile(r"\]\(#([^)\s]*)\)")


def _entries() -> dict[str, str]:
    """Heading text -> the definition below it."""
    entries: dict[str, str] = {}
    heading = None
    for line in GLOSSARY.read_text().splitlines():
        if line.startswith("### "):
            heading = line[4:].strip()
            assert heading not in entries, f"{heading!r} appears twice in the glossary"
            entries[heading] = ""
        elif heading is not None and not line.startswith("#"):
            entries[heading] = f"{entries[heading]} {line.strip()}".strip()
    return entries


def _anchor(heading: str) -> str:
    return heading.replace(" ", "-")


def _links(path) -> list[tuple[str, str | None]]:
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return LINK.findall(text)


def test_required_terms_have_their_own_heading():
    missing = [term for term in REQUIRED if term not in _entries()]
    assert not missing, f"add a '### Term' heading to {GLOSSARY.name} for: {missing}"


def test_every_term_has_a_short_plain_definition():
    for term, definition in _entries().items():
        assert definition, f"{term!r} has a heading but no definition"
        assert len(definition) <= 700, f"{term!r}: keep the definition to 1-3 sentences ({len(definition)} characters)"


def test_terms_are_in_alphabetical_order():
    terms = list(_entries())
    assert terms == sorted(terms, key=str.casefold), "keep the glossary in alphabetical order"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_glossary_link_in_a_lesson_resolves(path):
    expected = "glossary.md" if path.parent.name == "00_welcome" else "../00_welcome/glossary.md"
    anchors = {_anchor(h) for h in _entries()}
    broken = [
        f"{target}#{anchor}"
        for target, anchor in _links(path)
        if target != expected or (anchor and anchor not in anchors)
    ]
    assert not broken, (
        f"{path.name} links to glossary entries that do not exist (or by the wrong path; expected {expected}): {broken}. "
        "The anchor is the heading text with spaces replaced by '-', case-sensitive."
    )


def test_every_link_inside_the_glossary_resolves():
    anchors = {_anchor(h) for h in _entries()}
    broken = [a for a in OWN_LINK.findall(GLOSSARY.read_text()) if a not in anchors]
    assert not broken, f"the glossary links to terms it does not have: {broken}"


def test_lesson_0_links_terms_at_first_use():
    links = {anchor for _, anchor in _links(ROOT / "solutions" / "00_welcome" / "00_welcome.ipynb") if anchor}
    for anchor in (
        "machine-learning",
        "sensitivity",
        "specificity",
        "PPV",
        "prevalence",
        "confusion-matrix",
        "kernel",
        "automation-bias",
    ):
        assert anchor in links, f"lesson 0 should link {anchor!r} to the glossary where it first appears"
