"""Run inside a demo's kernel: the demo builder adds these calls to the cells it shows."""

from __future__ import annotations


def set_figure_alt(text: str) -> None:
    """Give the figure the cell just drew the alt text its lesson caption spells out (the demo shows
    the caption without it: alt text belongs to the image, not to the slide)."""
    import matplotlib.pyplot as plt

    from medai_edu.figure_html import set_alt

    if plt.get_fignums():
        set_alt(plt.figure(plt.get_fignums()[-1]), text)


def console_progress() -> None:
    """Progress bars off the slides: ``tqdm.auto`` becomes tqdm's console bar, which ``TQDM_DISABLE=1``
    (set by the demo server) switches off. Run before the lesson imports anything that shows progress.

    In a kernel ``tqdm.auto`` picks the notebook's widget bar, and that one ignores ``TQDM_DISABLE``
    (tqdm 4.70's ``tqdm.notebook`` passes ``disable=False`` on explicitly)."""
    import tqdm.auto
    import tqdm.std

    tqdm.auto.tqdm, tqdm.auto.trange = tqdm.std.tqdm, tqdm.std.trange
