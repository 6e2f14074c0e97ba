"""Data sets used by the lessons (imported lazily: ``from medai_edu.data import toy``).

:func:`get_dataset` gives any split of any course data set in one form:
``ds[i] -> (image [1, *S], label, ground truth [1, *S])`` (box mask or disease effect map).
"""

from __future__ import annotations

from typing import Any

from medai_edu.validation import Options, check_option

__all__ = [
    "IMAGE_SIZES",
    "get_dataset",
]

#: data set name -> image size of its 2D lesson version
IMAGE_SIZES = {"toy": 112, "brain": 80}


def get_dataset(
    name: str,
    split: str,
    size: int | None = None,
    seed: int = 42,
    only_label: int | None = None,
    limit: int | None = None,
) -> Any:
    """Split ``split`` of data set ``name`` ("toy" boxes or the simulated "brain" cohort)."""
    check_option(name, "name", Options(IMAGE_SIZES), note="the data set")
    if name == "toy":
        from medai_edu.data.toy import ToyBoxDataset

        return ToyBoxDataset(split, size=size or IMAGE_SIZES["toy"], seed=seed, only_label=only_label, limit=limit)
    import dataclasses

    from medai_edu.data.brain import LECTURE, BrainDataset

    if size not in (None, IMAGE_SIZES["brain"]):
        raise ValueError(
            f"the brain slices are {IMAGE_SIZES['brain']} x {IMAGE_SIZES['brain']} pixels; got size={size}."
        )
    return BrainDataset(split, dataclasses.replace(LECTURE, seed=seed), only_label=only_label, limit=limit)
