"""The library's docstring examples run, and every public function and class shows one.

A module listed in ``DOCTEST_MODULES`` declares its public API in ``__all__``; each function or
class there has a numpydoc ``Examples`` section with at least one example, and every example of
the module (methods included) runs with the standard ``doctest`` and prints what it shows.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import re

import pytest

DOCTEST_MODULES = [
    "medai_edu.metrics",
    "medai_edu.referral",
    "medai_edu.claims",
    "medai_edu.attribution",
    "medai_edu.validation",
]

_EXAMPLES = re.compile(r"^Examples\n-+\n(.*?)(?=^\S[^\n]*\n-+\n|\Z)", re.MULTILINE | re.DOTALL)


def _public(module) -> dict[str, object]:
    """The functions and classes of ``__all__``."""
    assert hasattr(module, "__all__"), f"{module.__name__} has no __all__ listing its public API"
    objects = {name: getattr(module, name) for name in module.__all__}
    return {name: obj for name, obj in objects.items() if inspect.isfunction(obj) or inspect.isclass(obj)}


def _examples(obj) -> list[doctest.Example]:
    """The examples of the docstring's Examples section (none without one)."""
    section = _EXAMPLES.search(obj.__doc__ and inspect.cleandoc(obj.__doc__) or "")
    return doctest.DocTestParser().get_examples(section.group(1)) if section else []


@pytest.mark.parametrize("name", DOCTEST_MODULES)
def test_examples_run(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    for test in doctest.DocTestFinder().find(module):
        runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.attempted > 0, f"{name} has no examples"
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples of {name} fail:\n" + "".join(report)


@pytest.mark.parametrize("name", DOCTEST_MODULES)
def test_public_api_shows_examples(name):
    module = importlib.import_module(name)
    defined_here = {
        n
        for n, obj in vars(module).items()
        if not n.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module.__name__
    }
    unlisted = sorted(defined_here - set(module.__all__))
    assert not unlisted, f"{name}: public but missing from __all__ (add them, or rename with a leading _): {unlisted}"
    without = [n for n, obj in _public(module).items() if not _examples(obj)]
    assert not without, f"{name}: no example in a numpydoc 'Examples' section: {without}"
