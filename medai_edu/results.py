"""Compute once per class: the lessons' deterministic demonstrations, stored and shared.

A lesson function decorated with :func:`computed_once` returns what it computed the first time
its inputs were seen; later calls, in this kernel or any other reading the same cache, load it.
Entries live in the data cache (:mod:`medai_edu.data.cache`: the user's folder, written; the class's
shared folder ``$MEDAI_EDU_SHARED_CACHE``, read only; checksummed; one build at a time) as
``result-NAME-KEY.npz``: the result's arrays plus its structure, with a card holding the key.

The key is everything that determines a result: the code (the function's source and all it uses
from its module, and the computing modules: models, data, attribution, metrics, referral), and a fingerprint of every argument (arrays by content, a model by its
weights, seeds and parameters by value). A retrained model, changed code or other settings give
another key, so an old entry is never served. :func:`check` recomputes every stored entry live and
compares it with what is stored (tests and ``medai-edu cache check``).

``MEDAI_EDU_LIVE=1`` (in a notebook: ``%env MEDAI_EDU_LIVE=1``) computes everything live, reading
and writing nothing. A result loaded from a cache says so once per kernel.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import importlib
import inspect
import json
import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from medai_edu.data import cache

__all__ = [
    "LIVE_ENV",
    "LazyModel",
    "live",
    "fingerprint",
    "own_code",
    "pack",
    "unpack",
    "computed_once",
    "recipe",
    "build",
    "prune",
    "recompute",
    "differences",
    "check",
]

LIVE_ENV = "MEDAI_EDU_LIVE"
PREFIX = "result-"
#: how closely a live recomputation must match a stored result (float arrays and numbers)
RTOL, ATOL = 1e-5, 1e-6
_SKELETON = "__structure__"
_told: set[str] = set()
_recording: list[dict[str, Any]] | None = None
_built: set[str] | None = None  # the entries build() stored or found, while it runs


def live() -> bool:
    """True when ``$MEDAI_EDU_LIVE`` asks to compute every demonstration live."""
    return os.environ.get(LIVE_ENV, "").strip().lower() not in ("", "0", "false", "no")


# --- models that load only when something computes with them -------------------------------------
class LazyModel:
    """A shipped model (``pretrained.load_model(name)``) that loads itself, and torch, only when used.

    A stored result needs only its weights file's sha256; the first attribute a computation asks
    for loads the model. After that it is keyed by the weights it holds, so training it in place
    never reuses results of the shipped weights.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: Any = None
        self._loaded_digest: str | None = None

    @property
    def module(self) -> Any:
        if self._module is None:
            from medai_edu import pretrained

            self._module = pretrained.load_model(self._name)
            self._loaded_digest = weights_digest(self._module)
        return self._module

    def fingerprint(self) -> dict[str, str]:
        if self._module is None or weights_digest(self._module) == self._loaded_digest:
            from medai_edu import pretrained

            weights = pretrained.PRETRAINED_DIR / f"{self._name}.safetensors"
            return {"shipped": self._name, "sha256": _file_digest(weights, weights.stat().st_mtime_ns)}
        return {"weights": weights_digest(self._module)}

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self.module, attribute)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def __repr__(self) -> str:
        return f"LazyModel({self._name!r}, {'loaded' if self._module is not None else 'not loaded yet'})"


@functools.lru_cache(maxsize=64)
def _file_digest(path: Path, modified_ns: int) -> str:
    return cache.sha256_of(path)


def weights_digest(module: Any) -> str:
    """sha256 of a module's parameters and buffers (names, shapes, values)."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        array = tensor.detach().cpu().contiguous().numpy()
        digest.update(f"{name}:{array.dtype}:{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def unwrap(value: Any) -> Any:
    """``value`` with every :class:`LazyModel` in it (also inside dicts, lists, tuples) loaded."""
    if isinstance(value, LazyModel):
        return value.module
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(unwrap(v) for v in value)
    return value


# --- keys ----------------------------------------------------------------------------------------
def fingerprint(value: Any) -> Any:
    """A JSON value that changes whenever ``value`` does: arrays by content, models by weights."""
    if isinstance(value, LazyModel):
        return value.fingerprint()
    if hasattr(value, "state_dict") and hasattr(value, "parameters"):
        return {"weights": weights_digest(value)}
    if type(value).__module__ == "torch" and hasattr(value, "numpy"):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        content = hashlib.blake2b(array.tobytes(), digest_size=16).hexdigest()
        return {"array": content, "dtype": str(array.dtype), "shape": list(array.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {"dict": [[fingerprint(k), fingerprint(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [fingerprint(v) for v in value]
    raise TypeError(f"cannot key a stored result on a {type(value).__name__}; pass arrays, numbers or models.")


#: the code every demonstration is computed with, besides the lesson function's own: models, data,
#: attribution, metrics, referral (whole files)
COMPUTING_CODE = ("models", "data", "attribution.py", "metrics.py", "referral.py")


def own_code(function: Callable[..., Any]) -> str:
    """The source of ``function`` and of all it uses from its own module, directly or through other
    functions there (functions, classes, the values of constants): the lesson's text and claims around
    it may change without giving new keys."""
    module = sys.modules[function.__module__]
    parts: list[str] = []
    seen: set[str] = set()
    todo = [inspect.unwrap(function)]
    while todo:
        source = inspect.getsource(todo.pop())
        parts.append(source)
        for name in sorted(_names(source) - seen):
            seen.add(name)
            value = inspect.unwrap(module.__dict__[name]) if name in module.__dict__ else None
            if (inspect.isfunction(value) or inspect.isclass(value)) and value.__module__ == module.__name__:
                todo.append(value)
            elif value is not None and not (inspect.ismodule(value) or callable(value)):
                parts.append(f"{name} = {value!r}")
    return "\n".join(parts)


def _names(source: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(textwrap.dedent(source))) if isinstance(node, ast.Name)}


@functools.cache
def code_digest(function: Callable[..., Any], modules: tuple[str, ...]) -> str:
    """sha256 of :func:`own_code` of ``function``, of the source files of ``modules`` and of
    :data:`COMPUTING_CODE` (a change anywhere in them gives new keys)."""
    package = Path(__file__).parent
    files = [Path(inspect.getfile(importlib.import_module(name))) for name in modules]
    for part in COMPUTING_CODE:
        files += sorted((package / part).glob("*.py")) if (package / part).is_dir() else [package / part]
    digest = hashlib.sha256(own_code(function).encode())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# --- storing any result as arrays plus a JSON structure ------------------------------------------
def _pack(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, np.ndarray):
        arrays[f"a{len(arrays)}"] = value
        return {"array": f"a{len(arrays) - 1}"}
    if isinstance(value, np.generic):
        return {"value": value.item()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    if dataclasses.is_dataclass(value) or hasattr(value, "_fields"):
        fields = (
            value._asdict()
            if hasattr(value, "_fields")
            else {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.init}
        )
        kind = type(value)
        return {"object": f"{kind.__module__}:{kind.__qualname__}", "fields": _pack(fields, arrays)}
    if isinstance(value, dict):
        return {"dict": [[_pack(k, arrays), _pack(v, arrays)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {type(value).__name__: [_pack(v, arrays) for v in value]}
    if type(value).__name__ == "DataFrame":
        return {"dataframe": _pack(value.to_dict(orient="split"), arrays), "index_name": value.index.name}
    raise TypeError(f"cannot store a {type(value).__name__} as a result.")


def _unpack(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    (kind, content), *_ = node.items()
    if kind == "array":
        return arrays[content]
    if kind == "value":
        return content
    if kind == "object":
        module, name = content.split(":")
        if not module.startswith("medai_edu."):
            raise ValueError(f"a stored result names {content}; only medai_edu's own classes are rebuilt.")
        target: Any = functools.reduce(getattr, name.split("."), importlib.import_module(module))
        return target(**_unpack(node["fields"], arrays))
    if kind == "dict":
        return {_unpack(k, arrays): _unpack(v, arrays) for k, v in content}
    if kind in ("list", "tuple"):
        items = [_unpack(v, arrays) for v in content]
        return items if kind == "list" else tuple(items)
    if kind == "dataframe":
        import pandas as pd

        split = _unpack(content, arrays)
        split["index"] = [tuple(i) if isinstance(i, list) else i for i in split["index"]]
        return pd.DataFrame(**split).rename_axis(node["index_name"])
    raise ValueError(f"a stored result holds an unknown part {kind!r}.")


def pack(value: Any) -> dict[str, np.ndarray]:
    """``value`` (arrays, numbers, strings, dicts, lists, tuples, medai_edu dataclasses, tables) as arrays."""
    arrays: dict[str, np.ndarray] = {}
    structure = json.dumps(_pack(value, arrays))
    arrays[_SKELETON] = np.frombuffer(structure.encode(), dtype=np.uint8)
    return arrays


def unpack(arrays: dict[str, np.ndarray]) -> Any:
    """What :func:`pack` stored."""
    return _unpack(json.loads(bytes(arrays[_SKELETON]).decode()), arrays)


# --- the decorator --------------------------------------------------------------------------------
def computed_once(
    *depends: str, ignore: tuple[str, ...] = ("progress",)
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Store the decorated function's result under a key of its arguments and code.

    ``depends``: modules whose code computes the result, besides the function's own and
    :data:`COMPUTING_CODE`; ``ignore``:
    arguments that do not change it (a progress bar). The function is called with every
    :class:`LazyModel` argument loaded.
    """

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(function)
        modules = tuple(depends)
        name = function.__qualname__

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            key = {
                "function": f"{function.__module__}.{name}",
                "code": code_digest(function, modules),
                "arguments": {k: fingerprint(v) for k, v in bound.arguments.items() if k not in ignore},
            }
            entry = f"{PREFIX}{name}-{hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]}"
            if _built is not None:
                _built.add(entry)
            compute = functools.partial(function, *unwrap(bound.args), **unwrap(bound.kwargs))
            if live():
                value = compute()
                if _recording is not None:
                    _recording.append({"entry": entry, "key": key, "value": value})
                return value
            computed = False

            def compute_packed() -> dict[str, np.ndarray]:
                nonlocal computed
                computed = True
                return pack(compute())

            arrays = cache.cached(entry, key, compute_packed)
            if not computed and name not in _told:
                _told.add(name)
                print(
                    f"Precomputed ({name}): loaded from the results cache, computed once with the same weights, "
                    f"code and settings. To compute it live, run `%env {LIVE_ENV}=1`, then this cell again."
                )
            return unpack(arrays)

        return wrapper

    return decorate


# --- what `medai-edu cache build` stores, and the check that it is still right ------------------
#: recipe name -> a function(quick) that runs a lesson's demonstrations as the notebook does
RECIPES: dict[str, Callable[[bool], None]] = {}


def recipe(name: str) -> Callable[[Callable[[bool], None]], Callable[[bool], None]]:
    """Register a lesson's demonstrations for ``medai-edu cache build`` and :func:`check`."""

    def register(function: Callable[[bool], None]) -> Callable[[bool], None]:
        RECIPES[name] = function
        return function

    return register


def _load_recipes() -> None:
    for lesson in ("saliency", "alzheimer", "uncertainty", "human_with_ai"):
        importlib.import_module(f"medai_edu.lessons.{lesson}")


def _runs(names: list[str] | None, modes: tuple[bool, ...]) -> Iterator[tuple[str, bool, Callable[[bool], None]]]:
    _load_recipes()
    unknown = set(names or ()) - set(RECIPES)
    if unknown:
        raise ValueError(f"No recipe named {sorted(unknown)}; expected some of {sorted(RECIPES)}.")
    for name, run in RECIPES.items():
        for quick in modes:
            if names is None or name in names:
                yield name, quick, run


def build(
    names: list[str] | None = None, modes: tuple[bool, ...] = (False, True), log: Callable[[str], None] = print
) -> set[str]:
    """Run every registered demonstration (or those named) in lecture and quick mode, storing its results
    in the user's cache (``$MEDAI_EDU_CACHE``; `medai-edu cache build --into DIR` points it at DIR).
    Returns the names of the entries it stored or found there."""
    global _built
    _built = set()
    try:
        for name, quick, run in _runs(names, modes):
            log(f"results: {name}{' (quick mode)' if quick else ''} ...")
            run(quick)
        return _built
    finally:
        _built = None


def prune(folder: Path, keep: set[str]) -> list[str]:
    """Remove the stored results in ``folder`` that ``keep`` does not name (made with other code, weights
    or settings: no lesson reads them any more), with their lock files; returns the removed names."""
    stored = {path.stem for pattern in (f"{PREFIX}*.npz", f"{PREFIX}*.json") for path in Path(folder).glob(pattern)}
    stale = sorted(stored - keep)
    for entry in stale:
        for suffix in (".npz", ".json", ".lock"):
            (Path(folder) / f"{entry}{suffix}").unlink(missing_ok=True)
    return stale


def recompute(names: list[str] | None = None, modes: tuple[bool, ...] = (False, True)) -> dict[str, dict[str, Any]]:
    """Every registered demonstration computed live (nothing read or written): entry name -> key and value."""
    global _recording
    saved, _recording = os.environ.get(LIVE_ENV), []
    os.environ[LIVE_ENV] = "1"
    try:
        for _, quick, run in _runs(names, modes):
            run(quick)
        return {item["entry"]: item for item in reversed(_recording)}
    finally:
        _recording = None
        if saved is None:
            os.environ.pop(LIVE_ENV, None)
        else:
            os.environ[LIVE_ENV] = saved


def differences(stored: Any, live_value: Any, where: str = "") -> list[str]:
    """Where ``stored`` and ``live_value`` differ (floats within RTOL/ATOL, everything else exactly)."""
    if isinstance(stored, np.ndarray) or isinstance(live_value, np.ndarray):
        a, b = np.asarray(stored), np.asarray(live_value)
        if a.shape != b.shape or a.dtype != b.dtype:
            return [f"{where}: {a.dtype}{list(a.shape)} stored, {b.dtype}{list(b.shape)} live"]
        same = np.isclose(a, b, RTOL, ATOL, equal_nan=True) if a.dtype.kind in "fc" else a == b
        return [] if np.all(same) else [f"{where}: {np.size(same) - np.count_nonzero(same)} values differ"]
    if isinstance(stored, float) and isinstance(live_value, (float, int)):
        close = np.isclose(stored, live_value, RTOL, ATOL, equal_nan=True)
        return [] if close else [f"{where}: {stored!r} stored, {live_value!r} live"]
    if type(stored).__name__ == "DataFrame":
        return differences(pack(stored), pack(live_value), where)
    if isinstance(stored, dict) and isinstance(live_value, dict):
        if list(stored) != list(live_value):
            return [f"{where}: keys {list(stored)} stored, {list(live_value)} live"]
        return [d for k in stored for d in differences(stored[k], live_value[k], f"{where}[{k!r}]")]
    if isinstance(stored, (list, tuple)) and isinstance(live_value, (list, tuple)):
        if len(stored) != len(live_value):
            return [f"{where}: {len(stored)} items stored, {len(live_value)} live"]
        return [d for i, (s, v) in enumerate(zip(stored, live_value)) for d in differences(s, v, f"{where}[{i}]")]
    if dataclasses.is_dataclass(stored) or hasattr(stored, "_fields"):
        return differences(pack(stored), pack(live_value), where)
    return [] if stored == live_value else [f"{where}: {stored!r} stored, {live_value!r} live"]


def check(folder: Path, live_results: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """Compare every result stored in ``folder`` (e.g. a shared cache) with its live recomputation
    (:func:`recompute`, done here if not given). Returns the problems: an entry whose value differs, an
    entry that no live computation asks for any more (made with other weights, code or settings:
    stale), a live result with no entry. An empty list: every stored result is what the lessons
    would compute now."""
    live_results = recompute() if live_results is None else live_results
    problems = []
    stored = sorted(p.stem for p in Path(folder).glob(f"{PREFIX}*.npz"))
    for entry in stored:
        card = json.loads((Path(folder) / f"{entry}.json").read_text())
        if entry not in live_results:
            problems.append(
                f"{entry}: stale, no live computation has its key {_why_stale(card['settings'], live_results)}"
            )
            continue
        arrays = cache._read(Path(folder), entry, card["settings"])
        if arrays is None:
            problems.append(f"{entry}: unreadable or corrupted")
            continue
        for difference in differences(unpack(arrays), live_results[entry]["value"], entry):
            problems.append(f"{difference} (tolerance: rtol {RTOL}, atol {ATOL})")
    problems += [f"{entry}: computed live but not stored in {folder}" for entry in live_results if entry not in stored]
    return problems


def _why_stale(key: dict[str, Any], live_results: dict[str, dict[str, Any]]) -> str:
    """Which parts of a stale key differ from the live keys of the same function."""
    same_function = [r["key"] for r in live_results.values() if r["key"]["function"] == key["function"]]
    if not same_function:
        return f"({key['function']} is not computed any more)"
    changed = sorted(
        {"code" for k in same_function if k["code"] != key["code"]}
        | {a for k in same_function for a in key["arguments"] if k["arguments"].get(a) != key["arguments"][a]}
    )
    return f"(differs from today's {key['function']} in: {', '.join(changed)})"
