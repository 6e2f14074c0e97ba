"""Train / validation / test sizes of a generated data set whose items are numbered in that order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from medai_edu.validation import Interval, Options, check_option, check_scalar

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "FINAL_TEST_SEED",
    "SPLITS",
    "SplitSizes",
    "first_items",
]

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class SplitSizes:
    """Items ``0 .. n_train-1`` train, the next ``n_val`` validate, the last ``n_test`` test."""

    n_train: int = 0
    n_val: int = 0
    n_test: int = 0

    @property
    def n_total(self) -> int:
        return self.n_train + self.n_val + self.n_test

    def split_range(self, split: str) -> range:
        """The item numbers of ``split``."""
        check_option(split, "split", Options(SPLITS))
        sizes = {"train": self.n_train, "val": self.n_val, "test": self.n_test}
        start = sum(sizes[s] for s in SPLITS[: SPLITS.index(split)])
        return range(start, start + sizes[split])


def first_items(indices: np.ndarray, limit: int | None) -> np.ndarray:
    """The first ``limit`` of ``indices`` (all when ``limit`` is None), a data set's ``limit`` option."""
    check_scalar(limit, "limit", Interval(1, integer=True), note="a number of images", allow_none=True)
    return indices if limit is None else indices[:limit]


#: Data seed of every benchmark's final test set: development (training, validation, model and
#: recipe choices) never used data drawn with it. The development data use seed 42.
FINAL_TEST_SEED = 20261201
