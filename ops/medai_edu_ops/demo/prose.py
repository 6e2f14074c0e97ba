"""The lesson's words as a demo shows them: nothing that points at code, cells or tables it hides.

A demo keeps the figures and explorers of a lesson and leaves out its code, exercises and tables,
so sentences written for the notebook ("The next cell draws `N_SAMPLES` outlines", "The table
below ...") point at nothing there. These functions drop such sentences (a labelled paragraph,
"**Measure.** ...", whose opening sentence does, goes whole: the rest is about the same hidden
work), take inline code out of parentheses, renumber sections and figures continuously (and the
references to them), and move a caption's "Alt text: ..." out of the visible text.
"""

from __future__ import annotations

import re

# What a sentence may not say in a demo: inline code, and words that point at notebook machinery.
POINTERS = re.compile(
    r"`[^`]*`"
    r"|\b(next|previous|following|this|that|last|first|each|every|a|the) (code )?cells?\b"
    r"|\bcells? (below|above)\b"
    r"|\b(re-?)?run(s|ning)? (the|this|that|it|each|all|every|your|a)\b"
    r"|\bvariables?\b|\bparameters? cell\b|\bquick mode\b|\bcode\b"
    r"|\btables?\b|\bcolumns?\b"
    r"|\byou (just )?(computed|wrote|implemented|printed|ran|typed)\b|\bprinted\b",
    re.IGNORECASE,
)
LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
CODE_IN_PARENTHESES = re.compile(r"\s*\([^()]*`[^`]*`[^()]*\)")
SECTION_HEADING = re.compile(r"^## (\d+)\.\s*")
SECTION_REFERENCE = re.compile(r"\b([Ss]ections?) (\d+)\b")
FIGURE_REFERENCE = re.compile(r"\b(Figures?) (\d+)\b")
MINUTES = re.compile(r"\s*\((\d+(-\d+)? min|graded by [^)]*)\)")
ALT_TEXT = re.compile(r"\s*Alt text:\s*(.*)$", re.DOTALL)
# A sentence ends at . ! or ? before a space and a capital, a quote, a bracket or emphasis, but not after an abbreviation.
SENTENCE_END = re.compile(r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bal\.)(?<!\bvs\.)(?<=[.!?])\s+(?=[A-Z\"'(*_])")
LABEL = re.compile(r"^\*\*[^*]+[.:]\*\*\s*")  # a paragraph's label, "**Measure.** ..."
LIST_ITEM = re.compile(r"^(\s*)([-*]|\d+\.)\s")


def points_at_hidden(sentence: str) -> bool:
    """Whether ``sentence`` refers to code, cells, parameters or tables (which a demo does not show)."""
    return bool(POINTERS.search(sentence))


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(text) if s]


def _renumber(text: str, pattern: re.Pattern, numbers: dict[int, int]) -> str | None:
    """``text`` with each reference renumbered; None when one refers to something the demo leaves out."""
    missing = False

    def replace(match: re.Match) -> str:
        nonlocal missing
        new = numbers.get(int(match.group(2)))
        missing = missing or new is None
        return f"{match.group(1)} {new}"

    text = pattern.sub(replace, text)
    return None if missing else text


def _without_dead_references(text: str, pattern: re.Pattern, numbers: dict[int, int]) -> str | None:
    """Renumber references; a parenthesis holding only a reference to a left-out part goes."""

    def parenthesis(match: re.Match) -> str:
        inner = match.group(0)
        return inner if _renumber(inner, pattern, numbers) is not None else ""

    text = re.sub(r"\s*\((?:[^()]*\b(?:[Ss]ections?|Figures?) \d+[^()]*)\)", parenthesis, text)
    return _renumber(text, pattern, numbers)


def clean_sentence(sentence: str, sections: dict[int, int], figures: dict[int, int]) -> str | None:
    """The sentence as the demo says it, or None when it points at what the demo does not show."""
    sentence = LINK.sub(r"\1", CODE_IN_PARENTHESES.sub("", sentence))
    for pattern, numbers in ((SECTION_REFERENCE, sections), (FIGURE_REFERENCE, figures)):
        cleaned = _without_dead_references(sentence, pattern, numbers)
        if cleaned is None:
            return None
        sentence = cleaned
    return None if points_at_hidden(sentence) else sentence


def _clean_paragraph(text: str, sections: dict[int, int], figures: dict[int, int]) -> str | None:
    """A paragraph with its pointing sentences dropped; None when nothing worth saying is left."""
    label = LABEL.match(text)
    parts = sentences(text[label.end() :] if label else text)
    kept = [clean_sentence(s, sections, figures) for s in parts]
    opening = next((i for i, s in enumerate(parts) if not s.endswith("?")), None)
    if opening is None or (label and kept[opening] is None):
        return None  # a labelled paragraph is about what its opening sentence says
    left = [s for s in kept if s is not None]
    if all(s.endswith("?") for s in left):
        return None
    return (label.group(0) if label else "") + " ".join(left)


def _clean_list(block: str, sections: dict[int, int], figures: dict[int, int]) -> str | None:
    """A list with every item that points at hidden things dropped whole (an item is one thought)."""
    items: list[str] = []
    current: list[str] = []
    for line in block.splitlines():
        if LIST_ITEM.match(line) and current:
            items.append("\n".join(current))
            current = []
        current.append(line)
    items.append("\n".join(current))
    kept = []
    for item in items:
        marker = LIST_ITEM.match(item)
        body = " ".join(line.strip() for line in (item[marker.end() :] if marker else item).splitlines())
        parts = [clean_sentence(s, sections, figures) for s in sentences(body)]
        left = [p for p in parts if p is not None]
        if parts and len(left) == len(parts):
            kept.append(item[: marker.end()] + " ".join(left) if marker else " ".join(left))
    return "\n".join(kept) or None


def clean_markdown(text: str, sections: dict[int, int], figures: dict[int, int]) -> str:
    """Markdown prose for the demo (see the module's docstring); headings and captions are handled apart."""
    segments: list[tuple[bool, list[str]]] = []  # (is a list, its lines), in order
    for line in text.strip().splitlines():
        is_list = bool(LIST_ITEM.match(line)) or bool(segments and segments[-1][0] and line.startswith((" ", "\t")))
        if not line.strip():
            segments.append((False, []))
        elif segments and segments[-1][0] == is_list and segments[-1][1]:
            segments[-1][1].append(line)
        else:
            segments.append((is_list, [line]))
    blocks = []
    for is_list, lines in segments:
        if not lines:
            continue
        if is_list:
            cleaned = _clean_list("\n".join(lines), sections, figures)
        else:
            cleaned = _clean_paragraph(" ".join(line.strip() for line in lines), sections, figures)
        if cleaned:
            blocks.append(cleaned)
    return "\n\n".join(blocks)


def heading(text: str, number: int) -> str:
    """A section heading renumbered for the demo, without links or the student's time estimate."""
    first = LINK.sub(r"\1", text.splitlines()[0])
    return MINUTES.sub("", SECTION_HEADING.sub(f"## {number}. ", first))


def section_number(text: str) -> int | None:
    match = SECTION_HEADING.match(text)
    return int(match.group(1)) if match else None


def figure_number(caption: str) -> int | None:
    match = re.match(r"^\*Figure (\d+)\.", caption)
    return int(match.group(1)) if match else None


def caption(text: str, number: int | None, sections: dict[int, int], figures: dict[int, int]) -> tuple[str, str | None]:
    """A figure's caption ("*Figure 3. ... Alt text: ...*") as the demo shows it: renumbered, its
    pointing sentences dropped, without the alt text, which comes back apart (None if it has none)."""
    body = LINK.sub(r"\1", text.strip().strip("*").strip())
    alt = ALT_TEXT.search(body)
    if alt:
        body = body[: alt.start()]
    first, *rest = sentences(body)
    kept = [s for s in (clean_sentence(s, sections, figures) for s in rest) if s]
    label = re.sub(r"^Figure \d+\.", f"Figure {number}.", first) if number else first
    visible = " ".join([label, *kept])
    return f"*{visible}*", alt.group(1).strip() if alt else None
