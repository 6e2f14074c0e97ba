"""Checks of what a student passes to the library, with errors that say what was expected and what was given.

Modelled on scikit-learn's ``utils/_param_validation.py``: an allowed range is described once, as
a small object (:class:`Interval`, :class:`Options`) that can both test a value and say in words
what it allows, and one function per kind of input raises the error built from that description.
Wrong types raise ``TypeError``, wrong values or shapes ``ValueError``.

The module imports neither torch nor numpy: :func:`check_images` only needs torch when it is given
a tensor, which means torch is already loaded.

Examples
--------
>>> from medai_edu.validation import Interval, Options, check_option, check_scalar
>>> check_scalar(0.3, "share", Interval(0, 1))
0.3
>>> check_scalar(-1, "severity", Interval(0), note="0 = no disease")
Traceback (most recent call last):
...
ValueError: severity must be a number of 0 or more (0 = no disease), got -1.
>>> check_option("training", "split", Options(["train", "val", "test"]))
Traceback (most recent call last):
...
ValueError: split must be one of 'train', 'val', 'test', got 'training'.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from numbers import Integral, Real
from typing import Any

__all__ = ["Interval", "Options", "check_finite", "check_images", "check_option", "check_scalar"]


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class Interval:
    """Numbers from ``low`` to ``high`` (``None``: no bound), whole numbers only if ``integer``.

    ``closed`` says which ends belong to the interval: ``"both"``, ``"left"``, ``"right"`` or
    ``"neither"``. ``str(interval)`` says in words what it allows.

    Examples
    --------
    >>> str(Interval(1, integer=True)), str(Interval(0, 1)), str(Interval(0, closed="neither"))
    ('a whole number of 1 or more', 'a number from 0 to 1', 'a number above 0')
    >>> 0.5 in Interval(0, 1), 2 in Interval(0, 1), 1.5 in Interval(0, 3, integer=True)
    (True, False, False)
    """

    def __init__(
        self, low: float | None = None, high: float | None = None, *, integer: bool = False, closed: str = "both"
    ) -> None:
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be 'both', 'left', 'right' or 'neither', got {closed!r}.")
        if low is not None and high is not None and high < low:
            raise ValueError(f"an interval needs low <= high, got low={low!r} and high={high!r}.")
        self.low, self.high, self.integer = low, high, integer
        self.low_closed, self.high_closed = closed in ("both", "left"), closed in ("both", "right")

    def accepts_type(self, value: Any) -> bool:
        """Whether ``value`` is a number of the right kind (``bool`` is not a number here)."""
        return isinstance(value, Integral if self.integer else Real) and not isinstance(value, bool)

    def __contains__(self, value: Any) -> bool:
        if not self.accepts_type(value) or value != value:  # NaN is in no interval
            return False
        if self.low is not None and (value < self.low if self.low_closed else value <= self.low):
            return False
        return self.high is None or (value <= self.high if self.high_closed else value < self.high)

    def __str__(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        low, high = self.low, self.high
        if low is not None and high is not None and self.low_closed and self.high_closed:
            return f"{kind} from {_number(low)} to {_number(high)}"
        parts = []
        if low is not None:
            parts.append(f"of {_number(low)} or more" if self.low_closed else f"above {_number(low)}")
        if high is not None:
            parts.append(f"of {_number(high)} or less" if self.high_closed else f"below {_number(high)}")
        return " ".join([kind, " and ".join(parts)]) if parts else kind


class Options:
    """A fixed set of allowed ``values``; ``meanings`` may say what some of them mean.

    Examples
    --------
    >>> str(Options(["train", "val", "test"])), str(Options(["raise", "skip"]))
    ("one of 'train', 'val', 'test'", "'raise' or 'skip'")
    >>> str(Options([0, 1, None], {0: "MCI", 1: "AD"}))
    '0 (MCI), 1 (AD) or None'
    """

    def __init__(self, values: Iterable[Any], meanings: Mapping[Any, str] | None = None) -> None:
        self.values = list(values)
        self.meanings = dict(meanings or {})
        if not self.values:
            raise ValueError("Options needs at least one allowed value.")

    def __contains__(self, value: Any) -> bool:
        try:  # `True == 1` in Python, but a flag is not a class number; an array or tensor is no option
            return any(value == o and isinstance(value, bool) == isinstance(o, bool) for o in self.values)
        except (TypeError, ValueError, RuntimeError):
            return False

    def __str__(self) -> str:
        shown = [repr(o) + (f" ({self.meanings[o]})" if o in self.meanings else "") for o in self.values]
        if len(shown) > 2 and not self.meanings:
            return "one of " + ", ".join(shown)
        return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _given(value: Any) -> str:
    """A short description of a value for an error message: small values as Python writes them."""
    if value is None or isinstance(value, (bool, int, float, str)) or type(value).__module__ == "numpy":
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return f"a {type(value).__name__}"


def check_scalar(value: Any, name: str, interval: Interval, *, note: str = "", allow_none: bool = False) -> Any:
    """Return ``value`` if it is a number in ``interval`` (or ``None`` when ``allow_none``); else raise.

    ``note`` explains the setting in the message, e.g. ``"pixels"`` or ``"0 = no disease"``.

    Raises
    ------
    TypeError
        ``value`` is not a number of the right kind (e.g. a float for a whole number, or a bool).
    ValueError
        ``value`` is a number outside ``interval``, or NaN.

    Examples
    --------
    >>> check_scalar(3, "n", Interval(1, integer=True))
    3
    >>> check_scalar(2.5, "n", Interval(1, integer=True), note="the number of samples")
    Traceback (most recent call last):
    ...
    TypeError: n must be a whole number of 1 or more (the number of samples), got 2.5.
    """
    if value is None and allow_none:
        return value
    message = f"{name} must be {'None or ' if allow_none else ''}{interval}{f' ({note})' if note else ''}, got {_given(value)}."
    if not interval.accepts_type(value):
        raise TypeError(message)
    if value not in interval:
        raise ValueError(message)
    return value


def check_option(value: Any, name: str, options: Options, *, note: str = "") -> Any:
    """Return ``value`` if it is one of ``options``; else raise ``ValueError`` listing them.

    Raises
    ------
    ValueError
        ``value`` is not one of ``options``.

    Examples
    --------
    >>> check_option(2, "spatial_dims", Options([2, 3], {2: "images", 3: "volumes"}))
    2
    >>> check_option(4, "spatial_dims", Options([2, 3], {2: "images", 3: "volumes"}))
    Traceback (most recent call last):
    ...
    ValueError: spatial_dims must be 2 (images) or 3 (volumes), got 4.
    """
    if value not in options:
        raise ValueError(f"{name} must be {options}{f' ({note})' if note else ''}, got {_given(value)}.")
    return value


def _layout(spatial_dims: int, channels: int | None) -> str:
    channel = "channels" if channels is None else f"{channels} channel{'s' if channels != 1 else ''}"
    return f"[batch, {channel}, {'H, W' if spatial_dims == 2 else 'D, H, W'}]"


def check_images(
    images: Any,
    name: str = "images",
    *,
    spatial_dims: int | tuple[int, ...] = (2, 3),
    channels: int | None = None,
    divisor: int = 1,
    finite: bool = False,
) -> None:
    """Check that ``images`` is a batch of images or volumes as the networks take it.

    That is a floating-point ``torch.Tensor`` ``[batch, channels, H, W]`` (``spatial_dims`` 2) or
    ``[batch, channels, D, H, W]`` (3), with ``channels`` channels when given, spatial sizes
    divisible by ``divisor`` (a network that halves the resolution k times needs ``2**k``) and,
    with ``finite``, no NaN or infinite value.

    Raises
    ------
    TypeError
        ``images`` is not a tensor, or holds whole numbers or booleans.
    ValueError
        Wrong number of axes, wrong channel count, sizes not divisible by ``divisor``, or NaN or
        infinite values.

    Examples
    --------
    >>> import torch
    >>> check_images(torch.zeros(2, 1, 8, 8), spatial_dims=2, channels=1)
    >>> check_images(torch.zeros(1, 8, 8), "SonoNet's input", spatial_dims=2, channels=1)
    Traceback (most recent call last):
    ...
    ValueError: SonoNet's input must be a 4-D tensor [batch, 1 channel, H, W], got shape (1, 8, 8). For a single image add a batch axis: image[None].
    """
    dims = (spatial_dims,) if isinstance(spatial_dims, int) else tuple(spatial_dims)
    layouts = " or a ".join(f"{2 + d}-D tensor {_layout(d, channels)}" for d in dims)
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(images, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor {' or '.join(_layout(d, channels) for d in dims)}, got {_given(images)}."
        )
    shape = tuple(images.shape)
    if images.ndim - 2 not in dims or (channels is not None and shape[1] != channels):
        single = images.ndim - 1 in dims and (channels is None or shape[0] == channels)
        hint = " For a single image add a batch axis: image[None]." if single else ""
        raise ValueError(f"{name} must be a {layouts}, got shape {shape}.{hint}")
    if not images.is_floating_point():
        raise TypeError(f"{name} must hold floating-point values, got dtype {images.dtype}; convert with .float().")
    if any(size % divisor for size in shape[2:]):
        raise ValueError(
            f"{name} must have spatial sizes divisible by {divisor} (the network halves the resolution "
            f"{divisor.bit_length() - 1} times), got {shape[2:]}. Crop or pad the image."
        )
    if finite:
        check_finite(images, name)


def check_finite(values: Any, name: str, hint: str = "") -> None:
    """Raise ``ValueError`` if the array or tensor ``values`` holds NaN or infinite numbers.

    The message counts them and ends with ``hint`` (what to do about it), if given.

    Examples
    --------
    >>> import numpy as np
    >>> check_finite(np.array([1.0, np.nan, np.inf]), "the image")
    Traceback (most recent call last):
    ...
    ValueError: 2 of the 3 values of the image are NaN or infinite; expected finite numbers.
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(values, torch.Tensor):
        bad, size = int((~torch.isfinite(values)).sum()), values.numel()
    else:
        import numpy as np

        values = np.asarray(values)
        bad, size = int((~np.isfinite(values)).sum()), values.size
    if bad:
        raise ValueError(
            f"{bad} of the {size} values of {name} are NaN or infinite; expected finite numbers.{' ' + hint if hint else ''}"
        )
