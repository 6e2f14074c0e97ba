"""Plain data across the sandbox's boundary: the only form in which a student's values reach the judge.

:func:`encode` turns a value into JSON-ready data, accepting only exact built-in types (``bool``,
``int``, ``float``, ``str``, ``None``; ``list``, ``tuple`` and ``dict`` of those), exact NumPy arrays
and scalars of numeric or boolean dtype, and exact ``torch.Tensor``\\ s; every other object, a
subclass included, raises :class:`NotPlain`. Nothing of the value's own code runs except inside
the sandbox, so an object that lies about itself (``__eq__``, ``__sub__``, ``strip``, ...) is refused
there, and the judge never holds it.

:func:`decode` is the judge's side: it builds fresh built-in objects from the data, checks every
tag, dtype and shape, and caps depth, sizes and counts. It trusts nothing in what it reads: a
forged message can at most stand for a plain value the student could have computed. Strings come
back with lone surrogates replaced (they cannot be written as UTF-8).

Encoded forms: JSON scalars and lists as themselves; ``{"ellipsis": true}`` (an unanswered ``name = ...``),
``{"tuple": [...]}``, ``{"dict": [[k, v], ...]}``,
``{"array": {...}}``, ``{"tensor": {...}}`` (dtype, shape, base64 bytes, requires_grad) and
``{"function": handle, "name": ...}`` for a callable the sandbox keeps (only :func:`describe` makes those).
"""

from __future__ import annotations

import base64
import math
import re
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy

MAX_DEPTH = 32
MAX_ITEMS = 1_000_000  # list items, dict entries and array elements in one value, all together
MAX_BYTES = 16 << 20  # array and tensor bytes in one value, all together
MAX_TEXT = 1 << 20  # characters of one string
DTYPES = frozenset(
    f"{order}{kind}"
    for kind in ("i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16")
    for order in "<>"
) | {"|b1", "|i1", "|u1"}
FORMS = frozenset(
    map(frozenset, ({"float"}, {"tuple"}, {"dict"}, {"array"}, {"tensor"}, {"function", "name"}, {"ellipsis"}))
)
_SURROGATE = re.compile("[\ud800-\udfff]")


class NotPlain(TypeError):
    """A value that is not plain data (the message names what it is)."""


def clean_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD (they cannot be written as UTF-8)."""
    return _SURROGATE.sub("\ufffd", text)


class _Budget:
    def __init__(self) -> None:
        self.items = 0
        self.bytes = 0

    def spend(self, items: int = 1, size: int = 0) -> None:
        self.items += items
        self.bytes += size
        if self.items > MAX_ITEMS or self.bytes > MAX_BYTES:
            raise NotPlain(f"too large for the grader (more than {MAX_ITEMS:,} numbers or {MAX_BYTES >> 20} MB)")


def _type_name(value: Any) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", None) or getattr(kind, "__name__", "object")
    return clean_text(str(name if module in ("builtins", "__main__") else f"{module}.{name}")[:80])


def _numpy_scalar(value: Any) -> Any | None:
    """The Python number for an exact NumPy scalar (np.float64, np.int32, np.bool_, ...), else None."""
    np = sys.modules.get("numpy")
    if np is None or type(value) not in _numpy_scalar_types(np):
        return None
    return value.item()


def _numpy_scalar_types(np: ModuleType) -> frozenset:
    kinds = [np.bool_, np.float16, np.float32, np.float64, np.complex64, np.complex128]
    kinds += [getattr(np, f"{s}int{b}") for s in ("", "u") for b in (8, 16, 32, 64)]
    return frozenset(kinds)


def _array(array: numpy.ndarray, budget: _Budget) -> dict:
    np = sys.modules["numpy"]
    dtype = array.dtype
    if dtype.kind not in "biufc" or dtype.str not in DTYPES:
        raise NotPlain(f"a NumPy array of dtype {str(dtype)[:40]} (only numbers or booleans)")
    budget.spend(int(array.size), int(array.size) * dtype.itemsize)
    data = np.ascontiguousarray(array).tobytes()
    return {"dtype": dtype.str, "shape": [int(s) for s in array.shape], "data": base64.b64encode(data).decode()}


def encode(value: Any, budget: _Budget | None = None, depth: int = 0) -> Any:
    """``value`` as JSON-ready data; raises :class:`NotPlain` for anything that is not plain data."""
    budget = budget or _Budget()
    if depth > MAX_DEPTH:
        raise NotPlain(f"nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if value is Ellipsis:  # an unanswered `name = ...`: the checks say what to write
        return {"ellipsis": True}
    if value is None or kind is bool or kind is int:
        if kind is int and value.bit_length() > 4000:
            raise NotPlain("an integer with more than 1,200 digits")
        return value
    if kind is float:
        return {"float": repr(value)} if not math.isfinite(value) else value
    if kind is str:
        if len(value) > MAX_TEXT:
            raise NotPlain(f"a text of {len(value):,} characters (at most {MAX_TEXT:,})")
        budget.spend(1, len(value))
        return clean_text(value)
    if kind is list or kind is tuple:
        budget.spend(len(value))
        items = [encode(item, budget, depth + 1) for item in value]
        return items if kind is list else {"tuple": items}
    if kind is dict:
        budget.spend(len(value))
        pairs = []
        for key, item in value.items():
            if type(key) not in (str, int, float, bool) and key is not None:
                raise NotPlain(f"a dict with a key of type {_type_name(key)}")
            pairs.append([encode(key, budget, depth + 1), encode(item, budget, depth + 1)])
        return {"dict": pairs}
    scalar = _numpy_scalar(value)
    if scalar is not None:
        return encode(scalar, budget, depth)
    numpy = sys.modules.get("numpy")
    if numpy is not None and kind is numpy.ndarray:
        return {"array": _array(value, budget)}
    torch = sys.modules.get("torch")
    if torch is not None and kind is torch.Tensor:
        if value.layout is not torch.strided or value.is_quantized or value.dtype is torch.bfloat16:
            raise NotPlain(f"a tensor of layout/dtype {value.layout}/{value.dtype}")
        data = _array(torch.Tensor.numpy(torch.Tensor.resolve_conj(torch.Tensor.detach(value)).cpu()), budget)
        return {"tensor": {**data, "requires_grad": bool(value.requires_grad)}}
    raise NotPlain(f"a {_type_name(value)}")


def describe(value: Any, handle: int) -> Any:
    """``value`` encoded, or a function reference (``handle``) when it is callable and not plain."""
    try:
        return encode(value)
    except NotPlain:
        if callable(value):
            name = getattr(value, "__name__", None)
            return {"function": handle, "name": clean_text(name[:80]) if type(name) is str else "function"}
        raise


def decode(
    data: Any, budget: _Budget | None = None, depth: int = 0, functions: Callable[[int, str], Any] | None = None
) -> Any:
    """Fresh plain objects from :func:`encode`'s data; raises ValueError on anything malformed.

    ``functions(handle, name)`` makes the object that stands for a student's function (the judge's
    proxy); without it, function references are refused.
    """
    budget = budget or _Budget()
    if depth > MAX_DEPTH:
        raise ValueError("nested too deeply")
    kind = type(data)
    if data is None or kind is bool or kind is int or kind is float:
        return data
    if kind is str:
        budget.spend(1, len(data))
        return clean_text(data)
    if kind is list:
        budget.spend(len(data))
        return [decode(item, budget, depth + 1) for item in data]
    if kind is not dict or frozenset(data) not in FORMS:
        raise ValueError("not an encoded value")
    if "ellipsis" in data:
        return Ellipsis
    if "float" in data:
        text = data["float"]
        if text not in ("nan", "inf", "-inf"):
            raise ValueError("a malformed number")
        return float(text)
    if "tuple" in data and type(data["tuple"]) is list:
        budget.spend(len(data["tuple"]))
        return tuple(decode(item, budget, depth + 1) for item in data["tuple"])
    if "dict" in data and type(data["dict"]) is list:
        budget.spend(len(data["dict"]))
        result = {}
        for pair in data["dict"]:
            if type(pair) is not list or len(pair) != 2:
                raise ValueError("a malformed dict")
            key = decode(pair[0], budget, depth + 1)
            if type(key) not in (str, int, float, bool) and key is not None:
                raise ValueError("a malformed dict key")
            result[key] = decode(pair[1], budget, depth + 1)
        return result
    if "array" in data:
        return _decode_array(data["array"], budget)
    if "tensor" in data and type(data["tensor"]) is dict:
        import torch

        spec = data["tensor"]
        tensor = torch.from_numpy(_decode_array(spec, budget))
        if spec.get("requires_grad") is True and tensor.is_floating_point():
            tensor.requires_grad_(True)
        return tensor
    if "function" in data and functions is not None and depth == 0:
        handle, name = data["function"], data.get("name")
        if type(handle) is int and type(name) is str:
            return functions(handle, clean_text(name[:80]))
    raise ValueError("not an encoded value")


def _decode_array(spec: Any, budget: _Budget) -> numpy.ndarray:
    import numpy as np

    if type(spec) is not dict or spec.get("dtype") not in DTYPES:
        raise ValueError("an array of an unknown dtype")
    shape, data = spec.get("shape"), spec.get("data")
    if type(shape) is not list or len(shape) > 32 or not all(type(s) is int and 0 <= s for s in shape):
        raise ValueError("an array of a malformed shape")
    if type(data) is not str:
        raise ValueError("an array without data")
    dtype = np.dtype(spec["dtype"])
    size = math.prod(shape)
    budget.spend(size, size * dtype.itemsize)
    raw = base64.b64decode(data.encode(), validate=True)
    if len(raw) != size * dtype.itemsize:
        raise ValueError("an array whose data does not fit its shape")
    return np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="), copy=True).reshape(shape)
