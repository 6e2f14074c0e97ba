"""Every quantitative or comparative sentence of a lesson, bound to the measurement behind it.

A lesson module lists its claims in one table, ``CLAIMS``. Each :class:`Claim` names the
sentence as the notebook shows it (with ``{placeholders}`` for quoted values), where each value
comes from (a field of a shipped benchmark JSON, or a function that computes it) and the
comparison the sentence makes. The tests (``tests/test_claims.py``) check, for every lesson,
that every claim still holds and that its sentence, rendered with today's measurements, stands
word for word in the notebook. A re-run benchmark that changes a quoted number or flips a
ranking therefore fails ``make test`` until the text is rewritten.

Words are bound like numbers: a qualitative word of :data:`QUANTIFIERS` ("almost every", "most",
"about half", "far better", ...) in a claim's sentence names, in ``Claim.words``, the measured value it
describes, and the claim holds only while that value lies in the word's range.

In a notebook's markdown the rendered sentence appears as it is; a sentence whose wording depends
on what the notebook itself measured is printed by code with :func:`say` instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from medai_edu.pretrained import PRETRAINED_DIR


@dataclass(frozen=True)
class Field:
    """A number in a shipped benchmark JSON: ``Field("toy_benchmark.json", "methods.vagan.ncc_mean")``."""

    file: str
    path: str

    def read(self) -> float:
        value: Any = _benchmark(self.file)
        for key in self.path.split("."):
            if not isinstance(value, Mapping) or key not in value:
                raise KeyError(f"{self.file} has no field {self.path!r} (missing {key!r}); re-run its benchmark.")
            value = value[key]
        return value

    def __str__(self) -> str:
        return f"{self.file}:{self.path}"


@dataclass(frozen=True)
class Computed:
    """A value a function computes (for example from the lesson's data), with what it is."""

    function: Callable[[], float]
    description: str

    def read(self) -> float:
        return self.function()

    def __str__(self) -> str:
        return self.description


Source = Field | Computed


@dataclass(frozen=True)
class Quantifier:
    """A qualitative word and the range of the value it may describe (both ends included).

    ``scale`` says what the value is: ``"share"`` a fraction of a group (0 to 1); ``"ratio"`` how many
    times the better (or larger) value is the other (1 = equal); ``"kept"`` the share of its reference
    value that a measure keeps (e.g. under a changed scan); ``"confidence"`` a probability's distance
    from certainty, ``max(p, 1 - p)``.
    """

    word: str
    low: float
    high: float
    scale: str
    pattern: str = ""  # a regular expression finding the word in a sentence (default: the word itself)

    def allows(self, value: float) -> bool:
        return self.low <= value <= self.high

    def found_in(self, text: str) -> bool:
        return re.search(self.pattern or rf"\b{re.escape(self.word)}\b", text, re.IGNORECASE) is not None

    def __str__(self) -> str:
        return f"{self.word!r} ({self.scale} from {self.low:g} to {self.high:g})"


_INF = float("inf")
#: the course's qualitative words and what each allows; a claim using one binds it in ``Claim.words``
QUANTIFIERS = {
    q.word: q
    for q in (
        Quantifier("almost every", 0.9, 1.0, "share"),
        Quantifier("almost all", 0.9, 1.0, "share"),
        Quantifier("nearly every", 0.9, 1.0, "share", r"\bnearly every(one|thing)?\b"),
        Quantifier("nearly all", 0.9, 1.0, "share"),
        Quantifier("most", 0.6, 1.0, "share", r"(?<!\bat )(?<!\bthe )\bmost\b(?![.,:;])"),
        Quantifier("about half", 0.4, 0.6, "share"),
        Quantifier("few", 0.0, 0.2, "share", r"(?<!\ba )\bfew\b"),
        Quantifier("almost no", 0.0, 0.1, "share", r"\balmost (no|none)\b"),
        Quantifier("rarely", 0.0, 0.1, "share"),
        Quantifier("far better", 1.5, _INF, "ratio", r"\bfar (better|higher|lower|more|larger)\b"),
        Quantifier("a little", 1.0, 1.1, "ratio", r"\b(a little|slightly)\b"),
        Quantifier("about the same", 1.0, 1.1, "ratio"),
        Quantifier("hardly", 0.0, 0.25, "kept"),
        Quantifier("no longer", 0.0, 0.5, "kept"),
        Quantifier("robust", 0.9, _INF, "kept"),
        Quantifier("unsure", 0.5, 0.75, "confidence"),
    )
}


def quantifiers_in(text: str) -> list[Quantifier]:
    """The words of :data:`QUANTIFIERS` that a sentence uses."""
    return [q for q in QUANTIFIERS.values() if q.found_in(text)]


@dataclass(frozen=True)
class Claim:
    """One sentence of a lesson and the measurements that make it true.

    ``text`` is the sentence as the notebook shows it; ``{name}`` is replaced by the value of
    ``values[name]`` formatted with ``formats.get(name, "{:.2f}")``. ``holds(v)`` receives the
    measured values by name and says whether the sentence is (still) true. ``words`` binds each
    qualitative word of :data:`QUANTIFIERS` in the sentence to the name of the value it describes.
    """

    name: str
    text: str
    values: Mapping[str, Source]
    holds: Callable[[dict[str, Any]], bool]
    formats: Mapping[str, str] = field(default_factory=dict)
    words: Mapping[str, str] = field(default_factory=dict)

    def measure(self) -> dict[str, Any]:
        return {name: source.read() for name, source in self.values.items()}

    def render(self, measured: dict[str, Any] | None = None) -> str:
        measured = self.measure() if measured is None else measured
        return self.text.format(**{k: self.formats.get(k, "{:.2f}").format(v) for k, v in measured.items()})

    def check(self) -> str | None:
        """``None`` if the claim holds, else a sentence saying what the measurements are."""
        measured = self.measure()
        wrong_words = self.misused_words(measured)
        if self.holds(measured) and not wrong_words:
            return None
        shown = ", ".join(f"{k} = {v!r} ({self.values[k]})" for k, v in measured.items())
        return (
            f"claim {self.name!r} no longer holds: {shown}{''.join(wrong_words)}. Rewrite the sentence: {self.text!r}"
        )

    def misused_words(self, measured: dict[str, Any]) -> list[str]:
        """What is wrong with the sentence's qualitative words: unbound, absent or out of range."""
        problems = []
        for word, name in self.words.items():
            q = QUANTIFIERS.get(word)
            if q is None or not q.found_in(self.text) or name not in measured:
                problems.append(f"; {word!r} is not a word of QUANTIFIERS found in the sentence, bound to a value")
            elif not q.allows(float(measured[name])):
                problems.append(f"; {q} does not fit {name} = {float(measured[name]):.3g}")
        unbound = [q.word for q in quantifiers_in(self.text) if q.word not in self.words]
        if unbound:
            problems.append(f"; the words {unbound} are not bound to a value in Claim.words")
        return problems


#: where :class:`Field` reads benchmark files (tests point it at an edited copy)
benchmark_dir = PRETRAINED_DIR


@lru_cache(maxsize=16)
def _benchmark(file: str) -> dict[str, Any]:
    path = benchmark_dir / file
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; re-run the benchmark that writes it (see the README).")
    return json.loads(path.read_text())


def clear_cache() -> None:
    """Forget the benchmark files read so far (tests that edit a copy call this)."""
    _benchmark.cache_clear()


def by_name(claims: list[Claim]) -> dict[str, Claim]:
    names = [c.name for c in claims]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"claim names must be unique, repeated: {sorted(duplicates)}")
    return {c.name: c for c in claims}


def say(text_if_true: str, text_if_false: str, condition: bool, **values: Any) -> str:
    """Print (and return) the sentence that matches what the notebook just measured."""
    sentence = (text_if_true if condition else text_if_false).format(**values)
    print(sentence)
    return sentence
