"""Every quantitative or comparative sentence of a lesson, bound to the measurement behind it.

Each lesson lists its claims in one table, ``CLAIMS``, in its own module beside the lesson
(``medai_edu.lessons.<lesson>_claims``). Each :class:`Claim` names the
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

from medai_edu.measurements import MEASUREMENTS_DIR
from medai_edu.pretrained import PRETRAINED_DIR

__all__ = [
    "QUANTIFIERS",
    "Claim",
    "Computed",
    "Field",
    "Quantifier",
    "Source",
    "benchmark_dirs",
    "by_name",
    "clear_cache",
    "quantifiers_in",
    "say",
]


@dataclass(frozen=True)
class Field:
    """A value in a shipped benchmark JSON (a number, or a list or table of them), read from the first of
    :data:`benchmark_dirs` that holds it.

    Parameters
    ----------
    file : str
        The JSON file's name.
    path : str
        Keys separated by dots.

    Examples
    --------
    >>> from medai_edu.claims import Field
    >>> vagan_ncc = Field("toy_benchmark.json", "methods.vagan.ncc_mean")
    >>> str(vagan_ncc)
    'toy_benchmark.json:methods.vagan.ncc_mean'
    >>> isinstance(vagan_ncc.read(), float)
    True
    """

    file: str
    path: str

    def read(self) -> Any:
        """The value, read once per file (see :func:`clear_cache`).

        Raises
        ------
        FileNotFoundError
            If the benchmark file is missing.
        KeyError
            If the file has no such field.
        """
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
    """A value a function computes (for example from the lesson's data), with what it is.

    Parameters
    ----------
    function : callable
        Takes no argument and returns the value.
    description : str
        What the value is, for error messages.

    Examples
    --------
    >>> from medai_edu.claims import Computed
    >>> quarter = Computed(lambda: 1 / 4, "a quarter")
    >>> quarter.read(), str(quarter)
    (0.25, 'a quarter')
    """

    function: Callable[[], Any]
    description: str

    def read(self) -> Any:
        """Call the function."""
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

    Parameters
    ----------
    word : str
        The word, lower case.
    low, high : float
        The range of values it may describe.
    scale : str
        ``"share"``, ``"ratio"``, ``"kept"`` or ``"confidence"``.
    pattern : str, optional
        A regular expression finding the word in a sentence (default: the word itself).

    Examples
    --------
    >>> from medai_edu.claims import QUANTIFIERS
    >>> most = QUANTIFIERS["most"]
    >>> str(most)
    "'most' (share from 0.6 to 1)"
    >>> most.allows(0.7), most.allows(0.5)
    (True, False)
    >>> most.found_in("Most maps mark the lesion."), most.found_in("It marks at most 3 pixels.")
    (True, False)
    """

    word: str
    low: float
    high: float
    scale: str
    pattern: str = ""  # a regular expression finding the word in a sentence (default: the word itself)

    def allows(self, value: float) -> bool:
        """Whether ``value`` lies in the word's range (both ends included)."""
        return self.low <= value <= self.high

    def found_in(self, text: str) -> bool:
        """Whether ``text`` uses the word (any case)."""
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
    """The words of :data:`QUANTIFIERS` that a sentence uses.

    Parameters
    ----------
    text : str
        A sentence.

    Returns
    -------
    list of Quantifier

    Examples
    --------
    >>> from medai_edu.claims import quantifiers_in
    >>> [q.word for q in quantifiers_in("Almost every map marks the lesion; few mark the rim.")]
    ['almost every', 'few']
    """
    return [q for q in QUANTIFIERS.values() if q.found_in(text)]


@dataclass(frozen=True)
class Claim:
    """One sentence of a lesson and the measurements that make it true.

    ``text`` is the sentence as the notebook shows it; ``{name}`` is replaced by the value of
    ``values[name]`` formatted with ``formats.get(name, "{:.2f}")``. ``holds(v)`` receives the
    measured values by name and says whether the sentence is (still) true. ``words`` binds each
    qualitative word of :data:`QUANTIFIERS` in the sentence to the name of the value it describes.

    Parameters
    ----------
    name : str
        Unique within the lesson's ``CLAIMS``.
    text : str
        The sentence, with ``{placeholders}``.
    values : mapping of str to Field or Computed
        Where each value comes from.
    holds : callable
        Receives the measured values by name; True while the sentence is true.
    formats : mapping of str to str, optional
        Format of each quoted value (default ``"{:.2f}"``).
    words : mapping of str to str, optional
        Each qualitative word of the sentence and the name of the value it describes.

    Examples
    --------
    >>> from medai_edu.claims import Claim, Computed
    >>> claim = Claim(
    ...     name="a_beats_b",
    ...     text="Method A's maps match the lesion far better than method B's (NCC {a} against {b}).",
    ...     values={
    ...         "a": Computed(lambda: 0.61, "method A's NCC"),
    ...         "b": Computed(lambda: 0.12, "method B's NCC"),
    ...         "a_over_b": Computed(lambda: 0.61 / 0.12, "method A's NCC over method B's"),
    ...     },
    ...     holds=lambda v: v["a"] > v["b"],
    ...     words={"far better": "a_over_b"},
    ... )
    >>> claim.render()
    "Method A's maps match the lesion far better than method B's (NCC 0.61 against 0.12)."
    >>> claim.check() is None
    True
    >>> claim.misused_words({"a": 0.61, "b": 0.55, "a_over_b": 1.1})
    ["; 'far better' (ratio from 1.5 to inf) does not fit a_over_b = 1.1"]
    """

    name: str
    text: str
    values: Mapping[str, Source]
    holds: Callable[[dict[str, Any]], bool]
    formats: Mapping[str, str] = field(default_factory=dict)
    words: Mapping[str, str] = field(default_factory=dict)

    def measure(self) -> dict[str, Any]:
        """Read every value: ``{name: value}``."""
        return {name: source.read() for name, source in self.values.items()}

    def render(self, measured: dict[str, Any] | None = None) -> str:
        """The sentence with the values (``measured``, or today's measurements) filled in."""
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
        """What is wrong with the sentence's qualitative words: unbound, absent or out of range.

        Parameters
        ----------
        measured : dict
            The measured values by name.

        Returns
        -------
        list of str
            One phrase per problem; empty when the words fit.
        """
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


#: where :class:`Field` reads its files, in this order: the shipped measurements, then the weights'
#: manifests (tests point it at an edited copy)
benchmark_dirs = [MEASUREMENTS_DIR, PRETRAINED_DIR]


@lru_cache(maxsize=16)
def _benchmark(file: str) -> dict[str, Any]:
    for folder in benchmark_dirs:
        if (folder / file).is_file():
            return json.loads((folder / file).read_text())
    raise FileNotFoundError(
        f"{file} is in none of {[str(f) for f in benchmark_dirs]}; re-run the benchmark or training that writes it (see the README)."
    )


def clear_cache() -> None:
    """Forget the benchmark files read so far (tests that edit a copy call this).

    Examples
    --------
    >>> from medai_edu import claims
    >>> claims.clear_cache()  # the next Field.read() reads its file again
    """
    _benchmark.cache_clear()


def by_name(claims: list[Claim]) -> dict[str, Claim]:
    """A lesson's claims by name.

    Parameters
    ----------
    claims : list of Claim

    Returns
    -------
    dict of str to Claim

    Raises
    ------
    ValueError
        If two claims share a name.

    Examples
    --------
    >>> from medai_edu.claims import Claim, by_name
    >>> claim = Claim("five", "Five.", {}, lambda v: True)
    >>> list(by_name([claim]))
    ['five']
    >>> by_name([claim, claim])
    Traceback (most recent call last):
    ...
    ValueError: claim names must be unique, repeated: ['five']
    """
    names = [c.name for c in claims]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"claim names must be unique, repeated: {sorted(duplicates)}")
    return {c.name: c for c in claims}


def say(text_if_true: str, text_if_false: str, condition: bool, **values: Any) -> str:
    """Print (and return) the sentence that matches what the notebook just measured.

    Parameters
    ----------
    text_if_true, text_if_false : str
        The two sentences, with ``{placeholders}`` for ``values``.
    condition : bool
        Which sentence is true.
    **values
        The values to fill in.

    Returns
    -------
    str
        The sentence printed.

    Examples
    --------
    >>> from medai_edu.claims import say
    >>> n = 9
    >>> sentence = say("{n} of 10 maps mark the lesion.", "Only {n} of 10 maps mark the lesion.", n >= 8, n=n)
    9 of 10 maps mark the lesion.
    """
    sentence = (text_if_true if condition else text_if_false).format(**values)
    print(sentence)
    return sentence
