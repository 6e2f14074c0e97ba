"""Every quantitative or comparative sentence of a lesson, bound to the measurement behind it.

A lesson module lists its claims in one table, ``CLAIMS``. Each :class:`Claim` names the
sentence as the notebook shows it (with ``{placeholders}`` for quoted values), where each value
comes from (a field of a shipped benchmark JSON, or a function that computes it) and the
comparison the sentence makes. The tests (``tests/test_claims.py``) check, for every lesson,
that every claim still holds and that its sentence, rendered with today's measurements, stands
word for word in the notebook. A re-run benchmark that changes a quoted number or flips a
ranking therefore fails ``make test`` until the text is rewritten.

In a notebook's markdown the rendered sentence appears as it is; a sentence whose wording depends
on what the notebook itself measured is printed by code with :func:`say` instead.
"""

from __future__ import annotations

import json
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
class Claim:
    """One sentence of a lesson and the measurements that make it true.

    ``text`` is the sentence as the notebook shows it; ``{name}`` is replaced by the value of
    ``values[name]`` formatted with ``formats.get(name, "{:.2f}")``. ``holds(v)`` receives the
    measured values by name and says whether the sentence is (still) true.
    """

    name: str
    text: str
    values: Mapping[str, Source]
    holds: Callable[[dict[str, Any]], bool]
    formats: Mapping[str, str] = field(default_factory=dict)

    def measure(self) -> dict[str, Any]:
        return {name: source.read() for name, source in self.values.items()}

    def render(self, measured: dict[str, Any] | None = None) -> str:
        measured = self.measure() if measured is None else measured
        return self.text.format(**{k: self.formats.get(k, "{:.2f}").format(v) for k, v in measured.items()})

    def check(self) -> str | None:
        """``None`` if the claim holds, else a sentence saying what the measurements are."""
        measured = self.measure()
        if self.holds(measured):
            return None
        shown = ", ".join(f"{k} = {v!r} ({self.values[k]})" for k, v in measured.items())
        return f"claim {self.name!r} no longer holds: {shown}. Rewrite the sentence: {self.text!r}"


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
