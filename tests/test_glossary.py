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


# --------------------------------------------------------------------------------------------
# Every term explained where it first appears, in every lesson
# --------------------------------------------------------------------------------------------

#: glossary terms whose plain English meaning is the one every lesson uses where they occur first
#: (checking them would only add links to ordinary words); each with the reason
EVERYDAY = {
    "sample": "also the ordinary 'a sample of cases'; lesson 3 links the model's samples where they start",
    "class": "'class 0' / 'class 1' are defined where lesson 1 introduces them; elsewhere ordinary English",
}
#: narrower patterns for terms that are also ordinary words: only the technical sense must be explained
PATTERNS = {
    "loss": r"(?:critic's|critic|generator's|generator|training|validation|its|network's)\s+loss(?:es)?(?![\w-])"
    r"|(?<![\w-])loss(?:es)? (?:function|value)",
}
#: other words for a glossary term: the first of either must be a link to it
ALIASES = {
    "backpropagation": [r"way back through the network", r"(?<!guided )backprop(?!agation)(?![\w-])"],
    "threshold": [r"thresholds?(?![\w-])"],
}
#: phrasings that were jargon without an explanation (issue 23) and must stay rewritten
BANNED = ["data seed", "development test", "development never", "with replacement", "P(diseased)"]
#: a link to a glossary entry from a lesson, with its text
TERM_LINK = re.compile(r"\[([^\]]*)\]\((?:\.\./00_welcome/)?glossary\.md(?:#([^)\s]*))?\)")


def _student_markdown(path) -> str:
    """A lesson's markdown as a student reads it: model answers left out; headings and the time table
    blanked (a title names a topic, the next sentence explains it); code spans blanked."""
    nb = nbformat.read(path, as_version=4)
    text = "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    text = re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "", text, flags=re.DOTALL)
    lines = ["" if line.lstrip().startswith(("#", "|")) else line for line in text.splitlines()]
    return re.sub(r"`[^`\n]*`", lambda m: " " * len(m.group(0)), "\n".join(lines))


def _vocabulary() -> dict[str, list[re.Pattern]]:
    """Glossary anchor -> the patterns that count as a use of its term."""
    vocabulary = {}
    for heading in _entries():
        if heading in EVERYDAY:
            continue
        if heading in PATTERNS:
            patterns = [PATTERNS[heading]]
        else:
            flags = 0 if any(ch.isupper() for ch in heading) else re.IGNORECASE
            patterns = [(r"(?<![\w-])" + re.escape(heading) + r"(?:s|es)?(?![\w-])", flags)]
        patterns += [(a, re.IGNORECASE) for a in ALIASES.get(heading, [])]
        vocabulary[_anchor(heading)] = [
            re.compile(p, re.IGNORECASE) if isinstance(p, str) else re.compile(*p) for p in patterns
        ]
    return vocabulary


def first_uses_without_explanation(text: str) -> list[str]:
    """Terms whose first use in ``text`` is not a link to their glossary entry (uses inside the link of
    another term, such as 'U-Net' in 'Probabilistic U-Net', do not count)."""
    links = [(m.start(), m.end(), m.group(2)) for m in TERM_LINK.finditer(text)]
    unexplained = []
    for anchor, patterns in _vocabulary().items():
        uses = [(m.start(), m.end(), m.group(0)) for p in patterns for m in p.finditer(text)]
        uses += [(begin, end, "link") for begin, end, target in links if target == anchor]  # a link is a use
        for start, stop, word in sorted(uses):
            inside = [target for begin, end, target in links if begin < stop and start < end]
            if inside and inside[0] == anchor:
                break  # explained at its first use
            if inside:
                continue  # part of another linked term
            unexplained.append(f"{word!r} (glossary #{anchor}) in: ...{text[max(0, start - 60) : start + 40]!r}...")
            break
    return unexplained


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_term_is_explained_where_it_first_appears(path):
    unexplained = first_uses_without_explanation(_student_markdown(path))
    assert not unexplained, (
        f"{path.name}: these terms are used before their first link to the glossary; link the first use "
        "([term](glossary.md#anchor)) or explain it in words there:\n" + "\n".join(unexplained)
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_rewritten_jargon_stays_out(path):
    text = _student_markdown(path)
    found = [phrase for phrase in BANNED if phrase.lower() in text.lower()]
    assert not found, f"{path.name} uses jargon the course replaced by plain words: {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_suggested_command_says_where_to_type_it(path):
    """A sentence that asks the student to run a shell command says where: JupyterLab's terminal."""
    nb = nbformat.read(path, as_version=4)
    text = "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    command = re.compile(r"`(?:medai-edu|make|pip|python -m|jupyter) [^`]*`")
    asked = re.compile(r"\b(type|run|enter|start|retrain it|train it)\b", re.IGNORECASE)
    missing = [
        s.strip()
        for s in re.split(r"(?<=[.!?])\s+", text)
        if command.search(s) and asked.search(command.sub("", s)) and "File → New → Terminal" not in s
    ]
    assert not missing, f"{path.name}: say where to type these commands (File → New → Terminal):\n" + "\n".join(missing)


def test_the_first_use_check_catches_an_unexplained_term():
    """The check itself: an early plain use fails, a first use as a link passes, another term's link hides it."""

    def flagged(text: str) -> set[str]:
        return {re.search(r"#([^)]*)\)", line).group(1) for line in first_uses_without_explanation(text)}

    assert "loss" in flagged("Its loss fell. Later the [loss](glossary.md#loss) is defined.")
    assert "loss" not in flagged("Its [loss](glossary.md#loss) fell, then its loss rose.")
    assert "loss" not in flagged("A loss of brain tissue.")
    assert "U-Net" not in flagged(
        "[Probabilistic U-Net](glossary.md#Probabilistic-U-Net) and [U-Net](glossary.md#U-Net)."
    )
    assert "U-Net" in flagged("A U-Net, then a [U-Net](glossary.md#U-Net).")
    assert "backpropagation" in flagged("Gradients pass the way back through the network.")
