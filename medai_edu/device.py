"""Choosing where computations run, and making runs repeatable."""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING

import numpy as np

__all__ = ["DEVICE_ENV", "get_device", "seed_everything"]

if TYPE_CHECKING:
    import torch

DEVICE_ENV = "MEDAI_DEVICE"
_KNOWN = ("cuda", "mps", "cpu")


def _available(name: str) -> bool:
    import torch

    if name == "cuda":
        return torch.cuda.is_available()
    if name == "mps":
        return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    return name == "cpu"


def get_device(prefer: str | torch.device | None = None) -> torch.device:
    """Return the device to compute on: cuda > mps > cpu.

    ``prefer`` (or the ``MEDAI_DEVICE`` environment variable) forces one; asking for a device
    this machine does not have is an error rather than a silent fallback. A ``torch.device``
    is returned as it is.
    """
    import torch

    if isinstance(prefer, torch.device):
        return prefer
    wanted = (prefer or os.environ.get(DEVICE_ENV, "")).strip().lower()
    if wanted:
        if wanted not in _KNOWN:
            raise ValueError(
                f"Unknown device {wanted!r} (from {'prefer' if prefer else DEVICE_ENV}); "
                f"expected one of {', '.join(_KNOWN)}."
            )
        if not _available(wanted):
            raise RuntimeError(
                f"Device {wanted!r} was requested but is not available on this machine. "
                f"Unset {DEVICE_ENV} or set it to 'cpu'."
            )
        return torch.device(wanted)
    return torch.device(next(name for name in _KNOWN if _available(name)))


def seed_everything(seed: int, torch_too: bool = True) -> None:
    """Seed Python, NumPy and torch (all devices) so that a run can be repeated; ``torch_too=False``
    leaves torch alone (and unimported)."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} ({seed!r}).")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    if torch_too:
        import torch

        torch.manual_seed(int(seed))
