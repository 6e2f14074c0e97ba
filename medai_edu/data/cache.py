"""A checksummed on-disk cache for generated arrays (``datasets/cache/``, ignored by git).

Each entry is ``NAME.npz`` plus ``NAME.json`` holding the settings that made it and the
file's sha256. An entry whose checksum or settings do not match is reported and rebuilt, so a
half-written or corrupted file never reaches a lesson.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ENV_VAR = "MEDAI_EDU_CACHE"


def cache_dir() -> Path:
    """``$MEDAI_EDU_CACHE`` if set, else ``datasets/cache`` in the repository."""
    return Path(os.environ.get(ENV_VAR) or Path(__file__).resolve().parents[2] / "datasets" / "cache")


def sha256_of(path: str | Path) -> str:
    """Hex sha256 digest of a file (cache entries and shipped weights are checked with it)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _paths(name: str) -> tuple[Path, Path]:
    base = cache_dir() / name
    return base.with_suffix(".npz"), base.with_suffix(".json")


def load(name: str, settings: dict[str, Any]) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None if absent, made with other settings, or corrupted (with a warning)."""
    data, card = _paths(name)
    if not data.is_file() or not card.is_file():
        return None
    try:
        info = json.loads(card.read_text())
        if info.get("settings") != json.loads(json.dumps(settings)):
            return None
        if sha256_of(data) != info.get("sha256"):
            raise ValueError("checksum mismatch")
        with np.load(data, allow_pickle=False) as arrays:
            return {key: arrays[key] for key in arrays.files}
    except (ValueError, OSError, KeyError) as error:
        warnings.warn(f"The cached file {data} is corrupted ({error}); it will be generated again.", stacklevel=2)
        return None


def save(name: str, settings: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` and their card atomically."""
    data, card = _paths(name)
    data.parent.mkdir(parents=True, exist_ok=True)
    tmp = data.with_name(data.stem + ".tmp.npz")
    np.savez(tmp, **arrays)
    digest = sha256_of(tmp)
    tmp.replace(data)
    card.write_text(json.dumps({"settings": settings, "sha256": digest}, indent=2))


def cached(name: str, settings: dict[str, Any], make: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Load ``name`` from the cache, or call ``make()`` and store its result."""
    arrays = load(name, settings)
    if arrays is None:
        arrays = make()
        save(name, settings, arrays)
    return arrays


Loader = Callable[..., dict[str, np.ndarray]]


def kept_in_memory(maxsize: int) -> Callable[[Loader], Loader]:
    """Keep the last ``maxsize`` results of a loader ``load(settings, progress=True)`` in memory,
    keyed by ``settings`` alone: however it is called (positionally, by keyword, with or without a
    progress bar), one data set is read from disk once and held once. ``load.cache_clear()`` forgets."""

    def decorate(load: Loader) -> Loader:
        kept: OrderedDict[Any, dict[str, np.ndarray]] = OrderedDict()
        default = load.__defaults__[0]

        @functools.wraps(load)
        def loader(settings: Any = default, progress: bool = True) -> dict[str, np.ndarray]:
            if settings not in kept:
                kept[settings] = load(settings, progress)
                while len(kept) > maxsize:
                    kept.popitem(last=False)
            kept.move_to_end(settings)
            return kept[settings]

        loader.cache_clear = kept.clear  # type: ignore[attr-defined]
        return loader

    return decorate
