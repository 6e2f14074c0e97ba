"""A checksummed on-disk cache for generated arrays, safe to share between users and kernels.

Each entry is ``NAME.npz`` plus ``NAME.json`` holding the settings that made it and the
file's sha256. An entry whose checksum or settings do not match is reported and rebuilt, so a
half-written or corrupted file never reaches a lesson.

Where entries live:

- the user's cache, ``$MEDAI_EDU_CACHE`` or else platformdirs' user cache folder
  (``~/.cache/medai-edu`` on Linux): read and written;
- an optional shared cache, ``$MEDAI_EDU_SHARED_CACHE`` (a hub fills it once with
  ``medai-edu cache build --into DIR``): read, never written.

Building an entry holds a file lock in the user's cache, so two kernels asking for the same data
at once build it once and neither sees a half-written file. Arrays come back read-only: one copy in
memory is shared by every caller, and no caller can change another's data.
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
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import filelock

__all__ = [
    "ENV_VAR",
    "LOCK_TIMEOUT_S",
    "Loader",
    "SHARED_ENV_VAR",
    "cache_dir",
    "cached",
    "kept_in_memory",
    "load",
    "save",
    "sha256_of",
    "shared_cache_dir",
]

ENV_VAR = "MEDAI_EDU_CACHE"
SHARED_ENV_VAR = "MEDAI_EDU_SHARED_CACHE"
LOCK_TIMEOUT_S = 1800  # a lecture cohort takes minutes to simulate on a loaded machine


def cache_dir() -> Path:
    """The user's cache: ``$MEDAI_EDU_CACHE`` if set, else platformdirs' user cache folder."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    import platformdirs

    return Path(platformdirs.user_cache_dir("medai-edu", appauthor=False))


def shared_cache_dir() -> Path | None:
    """The shared read-only cache (``$MEDAI_EDU_SHARED_CACHE``), or None when not set."""
    value = os.environ.get(SHARED_ENV_VAR)
    return Path(value) if value else None


def sha256_of(path: str | Path) -> str:
    """Hex sha256 digest of a file (cache entries and shipped weights are checked with it)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _paths(folder: Path, name: str) -> tuple[Path, Path]:
    base = folder / name
    return base.with_suffix(".npz"), base.with_suffix(".json")


def _read(folder: Path, name: str, settings: dict[str, Any]) -> dict[str, np.ndarray] | None:
    data, card = _paths(folder, name)
    if not data.is_file() or not card.is_file():
        return None
    try:
        info = json.loads(card.read_text())
        if info.get("settings") != json.loads(json.dumps(settings)):
            return None
        if sha256_of(data) != info.get("sha256"):
            raise ValueError("checksum mismatch")
        with np.load(data, allow_pickle=False) as arrays:
            return {key: _read_only(arrays[key]) for key in arrays.files}
    except (ValueError, OSError, KeyError) as error:
        warnings.warn(f"The cached file {data} is corrupted ({error}); it will be generated again.", stacklevel=3)
        return None


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def load(name: str, settings: dict[str, Any]) -> dict[str, np.ndarray] | None:
    """The cached arrays (user's cache first, then the shared one), or None if absent, made with other
    settings, or corrupted (with a warning)."""
    shared = shared_cache_dir()
    for folder in [cache_dir()] + ([shared] if shared else []):
        arrays = _read(folder, name, settings)
        if arrays is not None:
            return arrays
    return None


def save(name: str, settings: dict[str, Any], arrays: dict[str, np.ndarray], folder: Path | None = None) -> None:
    """Write ``arrays`` and their card into the user's cache (or ``folder``), each file atomically."""
    data, card = _paths(folder or cache_dir(), name)
    data.parent.mkdir(parents=True, exist_ok=True)
    tmp = data.with_name(f"{data.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)  # type: ignore[arg-type]  # numpy's stub lets **arrays fill allow_pickle
    info = json.dumps({"settings": settings, "sha256": sha256_of(tmp)}, indent=2)
    tmp_card = card.with_name(f"{card.stem}.{os.getpid()}.tmp.json")
    tmp_card.write_text(info)
    tmp.replace(data)
    tmp_card.replace(card)


def _stamp(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _lock(name: str) -> filelock.FileLock:
    import filelock

    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return filelock.FileLock(folder / f"{name}.lock", timeout=LOCK_TIMEOUT_S)


def cached(name: str, settings: dict[str, Any], make: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Load ``name`` from a cache, or call ``make()`` and store its result; the arrays are read-only.

    Reading takes no lock (each file is replaced whole, so it can be read from a read-only folder);
    only one process builds a given entry at a time, the others wait for it and then read it.
    """
    shared = shared_cache_dir()
    arrays = _read(shared, name, settings) if shared else None
    if arrays is not None:
        return arrays
    card = _paths(cache_dir(), name)[1]
    seen = _stamp(card)
    arrays = _read(cache_dir(), name, settings)  # reading needs no lock: files are replaced whole
    if arrays is not None:
        return arrays
    with _lock(name):  # another kernel may be building it: wait, then read what it wrote
        arrays = _read(cache_dir(), name, settings) if _stamp(card) != seen else None
        if arrays is None:
            arrays = make()
            save(name, settings, arrays)
    return {key: _read_only(value) for key, value in arrays.items()}


Loader = Callable[..., dict[str, np.ndarray]]


def kept_in_memory(maxsize: int) -> Callable[[Loader], Loader]:
    """Keep the last ``maxsize`` results of a loader ``load(settings, progress=True)`` in memory,
    keyed by ``settings`` alone: however it is called (positionally, by keyword, with or without a
    progress bar), one data set is read from disk once and held once. ``load.cache_clear()`` forgets."""

    def decorate(load: Loader) -> Loader:
        kept: OrderedDict[Any, dict[str, np.ndarray]] = OrderedDict()
        if not load.__defaults__:
            raise TypeError(f"{load.__name__} needs a default for its settings to be kept in memory.")
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
