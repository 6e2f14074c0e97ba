"""Figures and tables as accessible HTML: images with an ``alt`` attribute, tables with header cells.

JupyterLab and Voilà show a figure's PNG without any text alternative; the course shows each
figure as ``<img alt="...">`` instead, the alt text saying what the figure holds (its panels,
axes, colour bars and legend), unless a figure was given its own with :func:`set_alt`.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

from matplotlib.figure import Figure
from matplotlib.text import Text

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["set_alt", "describe", "png_bytes", "img_html", "figure_html", "table_html", "register_formatters"]

_ALT_ATTRIBUTE = "_medai_alt"
INDEX_LABEL = "Row"  # header of an unnamed table index (a table header must not be empty)


def set_alt(fig: Figure, text: str) -> Figure:
    """Give ``fig`` its own alt text (instead of the one :func:`describe` makes)."""
    setattr(fig, _ALT_ATTRIBUTE, text)
    return fig


def _clean(text: str) -> str:
    return " ".join(text.replace("\n", " ").split())


def _tick_names(labels: Iterable[Text]) -> str:
    """The axis' category names (as in a bar chart), or '' for a numeric axis."""
    names = [_clean(label.get_text()) for label in labels]
    numeric = all(name.replace("−", "-").replace(".", "", 1).lstrip("-").isdigit() for name in names if name)
    return "" if numeric or not any(names) else "categories " + ", ".join(n for n in names if n)


def describe(fig: Figure) -> str:
    """An alt text made from the figure itself: each panel's title, axes and colour bar, and the legends.

    Draw the figure first (e.g. with :func:`png_bytes`): tick labels exist only once it is drawn."""
    if getattr(fig, _ALT_ATTRIBUTE, None):
        return getattr(fig, _ALT_ATTRIBUTE)
    panels, bars = [], []
    for ax in fig.axes:
        if hasattr(ax, "_colorbar"):
            label = _clean(ax.get_ylabel() or ax.get_xlabel())
            bars.append(f"colour bar: {label}" if label else "colour bar")
            continue
        words = [f"'{_clean(ax.get_title())}'" if ax.get_title() else "untitled"]
        if ax.axison and (ax.get_xlabel() or ax.get_ylabel()):
            across = _clean(ax.get_xlabel()) or _tick_names(ax.get_xticklabels())
            along = _clean(ax.get_ylabel()) or _tick_names(ax.get_yticklabels())
            words.append(f"{along} against {across}" if along and across else along or across)
        notes = [_clean(t.get_text()) for t in ax.texts if t.get_text().strip()]
        if 0 < len(notes) <= 12:
            words.append("labels: " + ", ".join(notes))
        legend = ax.get_legend()
        if legend is not None:
            words.append("legend: " + ", ".join(_clean(t.get_text()) for t in legend.get_texts()))
        panels.append(" ".join(words[:1]) + (": " + "; ".join(words[1:]) if len(words) > 1 else ""))
    for legend in fig.legends:
        bars.append("legend: " + ", ".join(_clean(t.get_text()) for t in legend.get_texts()))
    title = _clean(fig.get_suptitle()) + ". " if fig.get_suptitle() else ""
    count = f"{len(panels)} panels" if len(panels) != 1 else "one panel"
    text = f"Figure, {title}{count}: " + "; ".join(panels)
    return text + (". " + "; ".join(bars) if bars else "") + "."


def png_bytes(fig: Figure, tight: bool = False) -> bytes:
    """The figure as PNG at its own resolution (``tight`` crops the margins as the notebook backend does)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight" if tight else None)
    return buffer.getvalue()


def img_html(png: bytes, alt: str) -> str:
    """An ``<img>`` element showing ``png`` with ``alt`` as its text alternative."""
    source = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{source}" alt="{html.escape(alt, quote=True)}" style="max-width: 100%">'


def figure_html(fig: Figure) -> str:
    """How a notebook shows a figure: the tight-cropped PNG with its alt text."""
    return img_html(png_bytes(fig, tight=True), describe(fig))


def table_html(table: pd.DataFrame) -> str:
    """A pandas table whose every header cell has text (the row labels get the column header ``Row``,
    on every header row when the columns have several levels)."""
    if table.index.name is None and not table.index.equals(_range_index(len(table))):
        table = table.rename_axis(INDEX_LABEL)
    if table.index.name is not None:
        table = table.reset_index(col_fill=table.index.name)
    return table.to_html(index=False, border=0)


def _range_index(n: int) -> pd.RangeIndex:
    import pandas as pd

    return pd.RangeIndex(n)


def register_formatters() -> None:
    """In a notebook, show figures and pandas tables through the functions above (no-op elsewhere)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    import matplotlib.pyplot as plt

    # The notebook backend drops every formatter's Figure entry when it first loads, at the first
    # figure; load it now (an empty figure, closed at once) so that ours stays.
    plt.close(plt.figure())
    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(Figure, figure_html)
    import pandas as pd

    formatter.for_type(pd.DataFrame, table_html)
