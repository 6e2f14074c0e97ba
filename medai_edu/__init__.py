"""medai-edu: the library behind the course notebooks.

Importing the package is deliberately light (no torch, no MONAI): submodules are imported
when first used, e.g. ``medai_edu.device`` or ``from medai_edu import checks``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from medai_edu import threads as _threads

# Before torch loads: threads sized to the CPUs this kernel may use, waiting without spinning
# (a shared hub or Binder; see medai_edu/threads.py). MEDAI_EDU_THREADS=off leaves the defaults.
_threads.configure()

__version__ = "0.1.0"


def __getattr__(name: str) -> ModuleType:
    """``medai_edu.viz`` and the like without an import statement: a submodule is imported when first used."""
    if not name.startswith("_"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module 'medai_edu' has no attribute {name!r}")
