"""The first code cell of every lesson: quick mode, seeding, figure style, hints under failed cells."""

from __future__ import annotations

import os
import sys

from medai_edu.checks.feedback import GRADING_ENV

__all__ = ["start", "is_quick", "use_figure_style"]


def is_quick(quick: bool) -> bool:
    """Quick mode is on when asked for, and always while nbgrader runs the notebook."""
    return bool(quick) or bool(os.environ.get(GRADING_ENV))


def use_figure_style() -> None:
    """The lessons' figure settings (also used when the widgets are benchmarked)."""
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 80, "image.cmap": "viridis", "axes.titlesize": 11, "font.size": 10})


def start(quick: bool = False, seed: int = 0) -> bool:
    """Prepare a lesson: returns the effective QUICK flag and prints what it means.

    Seeds Python, NumPy and torch (when the lesson imported it) so every learner sees the same numbers, sets a
    readable, colour-blind-safe figure style, shows figures with their alt texts, and (in a notebook kernel)
    shows a hint under a cell that fails with a novice's typical mistake.
    """
    from medai_edu.checks.hints import install_friendly_errors
    from medai_edu.device import get_device, seed_everything
    from medai_edu.figure_html import register_formatters

    quick = is_quick(quick)
    uses_torch = "torch" in sys.modules  # a lesson that computes with networks imported it; lesson 0 does not
    seed_everything(seed, torch_too=uses_torch)
    use_figure_style()
    register_formatters()  # figures as <img alt="...">, tables with labelled headers
    install_friendly_errors()
    reason = " (automatic grading)" if os.environ.get(GRADING_ENV) else ""
    where = f" Computing on: {get_device()}." if uses_torch else ""
    print(f"Quick mode: {'on' if quick else 'off'}{reason}.{where}")
    return quick
