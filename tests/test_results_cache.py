"""The shared results cache (medai_edu.results): keys, the live switch, and the consistency check that
recomputes every stored entry live (it must fail when an entry is edited and when the weights change)."""

from __future__ import annotations

import json
import shutil
from typing import NamedTuple

import numpy as np
import pytest

from medai_edu import results
from medai_edu.data import cache

CALLS: list[int] = []


@results.computed_once()
def _demo(values: np.ndarray, scale: float, seed: int = 0) -> dict:
    CALLS.append(1)
    rng = np.random.default_rng(seed)
    return {"scaled": values * scale + rng.normal(size=values.shape), ("noise", 0.5): float(rng.normal())}


class _Pair(NamedTuple):
    left: np.ndarray
    right: float


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.delenv(cache.SHARED_ENV_VAR, raising=False)
    monkeypatch.delenv(results.LIVE_ENV, raising=False)
    CALLS.clear()
    return tmp_path / "cache"


def test_results_round_trip_through_arrays():
    import pandas as pd

    value = {
        ("noise", 0.25): {"image": np.arange(6.0).reshape(2, 3), "n": 3, "label": "a", "none": None},
        "list": [1.5, (2, np.uint8(3))],
        "table": pd.DataFrame({"x": [1.0, 2.0]}, index=["a", "b"]).rename_axis("Row"),
        "levels": [("all levels", None), ("only level 1", 0)],
    }
    back = results.unpack(results.pack(value))
    assert results.differences(value, back) == []
    assert back[("noise", 0.25)]["image"].dtype == np.float64 and back["levels"][0] == ("all levels", None)
    assert back["table"].index.name == "Row"
    with pytest.raises(TypeError, match="cannot store a set"):
        results.pack({1, 2})


def test_computed_once_per_key_then_loaded_with_a_note(own_cache, capsys):
    values = np.arange(4.0)
    first = _demo(values, 2.0)
    again = _demo(values.copy(), 2.0)
    assert len(CALLS) == 1 and results.differences(first, again) == []
    assert "Precomputed" in capsys.readouterr().out
    assert not again["scaled"].flags.writeable  # one copy, shared: nobody changes another's result
    _demo(values, 3.0)  # another parameter,
    _demo(values + 1, 2.0)  # other data
    _demo(values, 2.0, seed=1)  # another seed: each computed
    assert len(CALLS) == 4
    assert len(list(own_cache.glob("result-_demo-*.npz"))) == 4


def test_the_live_switch_recomputes_and_stores_nothing(own_cache, monkeypatch):
    monkeypatch.setenv(results.LIVE_ENV, "1")
    _demo(np.arange(3.0), 1.0)
    _demo(np.arange(3.0), 1.0)
    assert len(CALLS) == 2 and not list(own_cache.glob("result-*"))


def test_a_corrupted_entry_is_detected_and_computed_again(own_cache):
    _demo(np.arange(3.0), 1.0)
    (entry,) = own_cache.glob("result-_demo-*.npz")
    entry.write_bytes(entry.read_bytes()[:-7] + b"garbage")
    with pytest.warns(UserWarning, match="corrupted"):
        _demo(np.arange(3.0), 1.0)
    assert len(CALLS) == 2


def test_a_model_is_keyed_by_its_weights():
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(2, 1)
    before = results.fingerprint(model)
    with torch.no_grad():
        model.weight.add_(1e-6)
    assert results.fingerprint(model) != before
    with pytest.raises(TypeError, match="cannot key"):
        results.fingerprint(object())


def test_the_code_key_follows_what_a_function_uses_not_the_lesson_text(monkeypatch):
    from medai_edu.lessons import uncertainty as lesson

    before = results.own_code(lesson.robustness_grid)
    assert "def sample_outlines" in before  # a function it calls, from its module
    monkeypatch.setattr(lesson, "TABLE_COLUMNS", [])  # another table of the module, which it does not use
    assert results.own_code(lesson.robustness_grid) == before
    monkeypatch.setattr(lesson, "STRONGEST_SHIFT", {**lesson.STRONGEST_SHIFT, "noise": 0.7})  # a constant it uses
    assert results.own_code(lesson.robustness_grid) != before


LESSON3 = ["lesson 3: uncertainty sampling"]


@pytest.fixture(scope="module")
def lesson3_built(tmp_path_factory):
    """Lesson 3's quick-mode results built into a folder, and the same recomputed live."""
    folder = tmp_path_factory.mktemp("shared")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(cache.ENV_VAR, str(folder))
        patch.delenv(cache.SHARED_ENV_VAR, raising=False)
        patch.delenv(results.LIVE_ENV, raising=False)
        results.build(LESSON3, modes=(True,))
    return folder, results.recompute(LESSON3, modes=(True,))


def test_every_stored_entry_equals_its_live_recomputation(lesson3_built):
    folder, live = lesson3_built
    assert len(live) >= 5
    assert results.check(folder, live) == []


def test_the_check_fails_when_an_entry_is_edited(lesson3_built, tmp_path):
    folder, live = lesson3_built
    edited = tmp_path / "edited"
    shutil.copytree(folder, edited)
    (card,) = edited.glob("result-level_spread-*.json")
    settings = json.loads(card.read_text())["settings"]
    spread = results.unpack(cache._read(edited, card.stem, settings))
    first = next(iter(spread))
    spread[first]["area spread (pixels)"] += 0.5
    cache.save(card.stem, settings, results.pack(spread), folder=edited)  # re-signed: not corruption, a wrong value
    problems = results.check(edited, live)
    assert len(problems) == 1 and "level_spread" in problems[0] and "stored" in problems[0]


def test_the_check_fails_when_the_weights_change(lesson3_built, tmp_path, monkeypatch):
    from medai_edu import pretrained

    folder, _ = lesson3_built
    retrained = tmp_path / "pretrained"
    shutil.copytree(pretrained.PRETRAINED_DIR, retrained, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    model = pretrained.load_model("multirater_phiseg_l5")
    manifest = pretrained.load_manifest("multirater_phiseg_l5")
    with __import__("torch").no_grad():
        next(model.parameters()).mul_(1.01)  # as a retrained PHiSeg would
    pretrained.save_weights(
        model,
        "multirater_phiseg_l5",
        kind=manifest["kind"],
        config=manifest["config"],
        seed=manifest["seed"],
        command="a test: the shipped weights times 1.01",
        directory=retrained,
        half=manifest.get("dtype") == "float16",
    )
    monkeypatch.setattr(pretrained, "PRETRAINED_DIR", retrained)
    problems = results.check(folder, results.recompute(LESSON3, modes=(True,)))
    stale = [p for p in problems if "stale" in p]
    assert stale and all("model" in p or "models" in p for p in stale)
    assert any("computed live but not stored" in p for p in problems)
