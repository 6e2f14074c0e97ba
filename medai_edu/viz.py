"""Plotting helpers: colour-blind-safe colours, a colour bar or legend on every figure."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

__all__ = [
    "METHOD_LABELS",
    "offscreen",
    "plot_workload_gap",
    "plot_confusion",
    "ppv_curve",
    "plot_ppv_vs_prevalence",
    "plot_toy_examples",
    "plot_attribution",
    "plot_ncc_bars",
    "plot_brain_reference",
    "plot_severity",
    "plot_brain_map",
    "plot_raters",
    "plot_single_answer",
    "plot_samples",
    "plot_disagreement_pair",
    "plot_robustness",
    "plot_referral",
    "plot_reliability",
    "plot_shift_referral",
    "plot_quality_scores",
]

# Okabe–Ito colours: distinguishable with every common colour-vision deficiency.
BLUE, ORANGE, GREEN, GREY = "#0072B2", "#E69F00", "#009E73", "#999999"

_offscreen = threading.local()


@contextmanager
def offscreen() -> Iterator[None]:
    """Figures made inside this block bypass pyplot: the notebook does not show them by itself,
    and they can be drawn outside the main thread (the explorers draw in the background)."""
    before = getattr(_offscreen, "on", False)
    _offscreen.on = True
    try:
        yield
    finally:
        _offscreen.on = before


def _subplots(*args: int, figsize: tuple[float, float], **kwargs: Any) -> tuple[Figure, Any]:
    """``plt.subplots``, or inside :func:`offscreen` a figure that pyplot does not know."""
    if not getattr(_offscreen, "on", False):
        return plt.subplots(*args, figsize=figsize, **kwargs)
    fig = Figure(figsize=figsize, dpi=matplotlib.rcParams["figure.dpi"])
    return fig, fig.subplots(*args, **kwargs)


def plot_workload_gap(imaging_growth: float = 31, radiologist_growth: float = 18) -> Figure:
    """Bar chart: growth of imaging volume versus growth of the radiologist workforce (%)."""
    fig, ax = _subplots(figsize=(5, 3.2))
    bars = ax.bar(["Imaging studies", "Radiologists"], [imaging_growth, radiologist_growth], color=[BLUE, ORANGE])
    ax.bar_label(bars, fmt="+%g%%")
    ax.set_ylabel("Growth over the same period (%)")
    ax.set_ylim(0, max(imaging_growth, radiologist_growth) * 1.25)
    ax.set_title("More images, not as many more radiologists")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def plot_confusion(tp: int, fp: int, fn: int, tn: int, title: str = "AI triage on 1,000 chest X-rays") -> Figure:
    """A 2 x 2 confusion matrix with counts, coloured by number of patients (cividis)."""
    counts = np.array([[tp, fn], [fp, tn]])
    fig, ax = _subplots(figsize=(5.8, 3.8))
    image = ax.imshow(counts, cmap="cividis")
    labels = [["true positive (TP)", "false negative (FN)"], ["false positive (FP)", "true negative (TN)"]]
    for (row, col), value in np.ndenumerate(counts):
        dark = value < counts.max() / 2
        ax.text(
            col,
            row,
            f"{labels[row][col]}\n{value}",
            ha="center",
            va="center",
            color="white" if dark else "black",
            fontsize=9,
        )
    ax.set_xticks([0, 1], ["AI: urgent", "AI: routine"])
    ax.set_yticks([0, 1], ["has the disease", "no disease"])
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="number of patients")
    fig.tight_layout()
    return fig


def ppv_curve(sensitivity: float, specificity: float, prevalence: np.ndarray) -> np.ndarray:
    """Positive predictive value of a test at each prevalence (Bayes' rule)."""
    true_pos = sensitivity * prevalence
    false_pos = (1 - specificity) * (1 - prevalence)
    return np.divide(true_pos, true_pos + false_pos, out=np.zeros_like(true_pos), where=(true_pos + false_pos) > 0)


def plot_ppv_vs_prevalence(sensitivity: float = 0.9, specificity: float = 0.9, prevalence: float = 0.05) -> Figure:
    """How often a positive AI flag is right, as the disease gets rarer or commoner."""
    for name, value in {"sensitivity": sensitivity, "specificity": specificity, "prevalence": prevalence}.items():
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be between 0 and 1, got {value}.")
    grid = np.linspace(0.001, 0.999, 400)
    fig, ax = _subplots(figsize=(5.5, 3.4))
    ax.plot(grid * 100, ppv_curve(sensitivity, specificity, grid) * 100, color=BLUE, label="positive predictive value")
    here = float(ppv_curve(sensitivity, specificity, np.array([prevalence]))[0])
    ax.plot([prevalence * 100], [here * 100], "o", color=ORANGE, label=f"your setting: {here:.0%}")
    ax.set_xscale("log")
    ax.set_xlabel("Prevalence: patients with the disease (%)")
    ax.set_ylabel("Flags that are right (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"Sensitivity {sensitivity:.0%}, specificity {specificity:.0%}")
    ax.legend(loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.16, top=0.9)  # fixed layout: redraws fast
    return fig


METHOD_LABELS = {
    "vanilla_gradient": "Vanilla gradient",
    "guided_backprop": "Guided backprop",
    "grad_cam": "Grad-CAM",
    "occlusion": "Occlusion",
    "integrated_gradients": "Integrated gradients",
    "vagan": "VA-GAN (disease effect)",
}


def _picture(ax: Axes, title: str) -> None:
    """An image panel: a title and no axes (fixed title position and no ticks keep redraws fast)."""
    ax.set_title(title, y=1.0, pad=4)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.axis("off")


def _colour_bar(fig: Figure, shown: AxesImage, ax: Axes, label: str) -> None:
    """A slim colour bar with three ticks (low, middle, high): enough to read, and quick to redraw."""
    low, high = shown.get_clim()
    fig.colorbar(shown, ax=ax, fraction=0.046, label=label, ticks=[low, (low + high) / 2, high], format="%.2g")


def _image_panel(ax: Axes, image: np.ndarray, title: str) -> None:
    ax.imshow(image, cmap="gray", vmin=-1, vmax=1)
    _picture(ax, title)


def plot_toy_examples(images: np.ndarray, masks: np.ndarray, titles: list[str]) -> Figure:
    """Toy images (top row) with the ground-truth disease pixels (bottom row)."""
    n = len(images)
    fig, axes = _subplots(2, n, figsize=(2.1 * n, 4.4), squeeze=False)
    for i in range(n):
        _image_panel(axes[0, i], images[i], titles[i])
        axes[1, i].imshow(masks[i], cmap="cividis", vmin=0, vmax=1)
        _picture(axes[1, i], "disease pixels")
    fig.tight_layout()
    return fig


def plot_attribution(
    image: np.ndarray, mask: np.ndarray, attribution_map: np.ndarray, method: str, top_fraction: float | None = None
) -> Figure:
    """Image | map | ground truth side by side; optionally outline the map's top pixels."""
    signed = method == "vagan"
    fig, axes = _subplots(1, 3, figsize=(10, 3.1))
    _image_panel(axes[0], image, "Image")
    if signed:
        limit = float(np.abs(attribution_map).max()) or 1.0
        shown = axes[1].imshow(attribution_map, cmap="RdBu_r", vmin=-limit, vmax=limit)
        label = "disease effect (red = brighter)\nscale of this image"
    else:
        shown = axes[1].imshow(attribution_map, cmap="viridis")
        label = "importance for 'diseased'\nscale of this image"
    _colour_bar(fig, shown, axes[1], label)
    _picture(axes[1], METHOD_LABELS.get(method, method))
    if top_fraction:
        values = np.abs(attribution_map) if signed else attribution_map
        cut = np.quantile(values, 1 - top_fraction)
        axes[1].contour(values >= cut, levels=[0.5], colors=ORANGE, linewidths=1.2)
    gt = axes[2].imshow(mask, cmap="cividis", vmin=0, vmax=1)
    _colour_bar(fig, gt, axes[2], "1 = disease pixel")
    _picture(axes[2], "Ground truth")
    fig.subplots_adjust(left=0.01, right=0.93, bottom=0.02, top=0.9, wspace=0.45)  # fixed layout: redraws fast
    return fig


def plot_ncc_bars(rows: dict[str, dict[str, float]]) -> Figure:
    """Mean NCC (with standard deviation) per method: how well each map finds all disease pixels."""
    names = sorted(rows, key=lambda n: rows[n]["ncc_mean"])
    fig, ax = _subplots(figsize=(6.4, 0.45 * len(names) + 1.2))
    colours = [ORANGE if n == "vagan" else BLUE for n in names]
    ax.barh(
        [METHOD_LABELS.get(n, n) for n in names],
        [rows[n]["ncc_mean"] for n in names],
        xerr=[rows[n]["ncc_std"] for n in names],
        color=colours,
        capsize=3,
    )
    ax.set_xlim(min(0.0, min(rows[n]["ncc_mean"] for n in names) - 0.1), 1.0)
    ax.set_xlabel("NCC with the ground truth (1 = finds exactly the disease pixels)")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def _outline(ax: Axes, mask: np.ndarray, colour: str, thin: bool = False) -> None:
    """Draw the border pixels of ``mask`` (> 0.5) in ``colour`` (an image layer: faster than a contour);
    ``thin`` draws a contour line instead, for close-ups where a pixel border would hide the image."""
    inside = np.asarray(mask) > 0.5
    if thin:
        if inside.any():
            ax.contour(inside, levels=[0.5], colors=colour, linewidths=1.2)
        return
    padded = np.pad(inside, 1)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    border = inside & ~interior
    layer = np.zeros(border.shape + (4,))
    layer[border] = matplotlib.colors.to_rgba(colour)
    ax.imshow(layer, interpolation="nearest")


def _signed_panel(
    ax: Axes, fig: Figure, effect: np.ndarray, title: str, label: str, limit: float | None = None
) -> None:
    limit = limit or float(np.abs(effect).max()) or 1.0
    shown = ax.imshow(effect, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    _colour_bar(fig, shown, ax, label)
    _picture(ax, title)


def plot_brain_reference(template: np.ndarray, hippocampus: np.ndarray, ventricles: np.ndarray) -> Figure:
    """The template slice with the atlas' hippocampus (orange) and ventricle (blue) outlines."""
    fig, ax = _subplots(figsize=(4.2, 4.2))
    ax.imshow(template, cmap="gray", interpolation="nearest")
    _outline(ax, hippocampus, ORANGE)
    _outline(ax, ventricles, BLUE)
    ax.plot([], [], color=ORANGE, label="hippocampus")
    ax.plot([], [], color=BLUE, label="lateral ventricles")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    _picture(ax, "Coronal slice: patient's left on the left")
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.1, top=0.93)
    return fig


def plot_severity(
    image: np.ndarray,
    effect: np.ndarray,
    vagan_map: np.ndarray,
    hippocampus: np.ndarray,
    ventricles: np.ndarray,
    severity: float,
    volume_change: float,
) -> Figure:
    """One simulated subject at a disease severity: scan, true effect and VA-GAN's map."""
    fig, axes = _subplots(1, 3, figsize=(10.5, 3.4))
    axes[0].imshow(image, cmap="gray", vmin=-1, vmax=1.5, interpolation="nearest")
    _outline(axes[0], hippocampus, ORANGE)
    _outline(axes[0], ventricles, BLUE)
    _picture(axes[0], f"Severity {severity:.2f}\nhippocampus area {volume_change:+.0f} %")
    _signed_panel(axes[1], fig, effect, "True disease effect", "red brighter, blue darker", limit=1.0)
    _signed_panel(
        axes[2], fig, vagan_map, METHOD_LABELS["vagan"], "red brighter, blue darker"
    )  # its own scale: VA-GAN's maps are fainter
    fig.subplots_adjust(left=0.01, right=0.93, bottom=0.03, top=0.84, wspace=0.45)
    return fig


def plot_brain_map(
    image: np.ndarray,
    effect: np.ndarray,
    attribution_map: np.ndarray,
    method: str,
    hippocampus: np.ndarray,
    overlay: float = 0.6,
    close_up: tuple[slice, slice] | None = None,
) -> Figure:
    """Scan with the map overlaid (``overlay`` = opacity), a close-up of the hippocampus, the true effect.

    The close-up has its own colour scale (the hippocampal change is small beside the ventricles')."""
    signed = method == "vagan"
    shown_map = attribution_map if signed else np.abs(attribution_map)
    label = "red brighter, blue darker" if signed else "importance for 'AD'"
    fig, axes = _subplots(1, 3, figsize=(11, 3.4))
    for ax, window, scale in ((axes[0], None, label), (axes[1], close_up, f"{label}\n(close-up scale)")):
        crop = window or (slice(None), slice(None))
        limit = float(np.abs(shown_map[crop]).max()) or 1.0
        style = dict(cmap="RdBu_r", vmin=-limit, vmax=limit) if signed else dict(cmap="viridis", vmin=0, vmax=limit)
        ax.imshow(image[crop], cmap="gray", vmin=-1, vmax=1.5, interpolation="nearest")
        strength = np.clip(2 * np.abs(shown_map[crop]) / limit, 0, 1)  # faint where the map is near 0
        layer = ax.imshow(
            shown_map[crop], alpha=float(np.clip(overlay, 0, 1)) * strength, interpolation="nearest", **style
        )
        _outline(ax, hippocampus[crop], ORANGE, thin=window is not None)
        _colour_bar(fig, layer, ax, scale)
    _picture(axes[0], METHOD_LABELS.get(method, method))
    _picture(axes[1], "Close-up: left hippocampus")
    if close_up is not None:
        rows, cols = close_up
        axes[0].add_patch(
            plt.Rectangle(
                (cols.start - 0.5, rows.start - 0.5),
                cols.stop - cols.start,
                rows.stop - rows.start,
                fill=False,
                edgecolor=ORANGE,
                linestyle="--",
            )
        )
    _signed_panel(axes[2], fig, effect, "True disease effect", "red brighter, blue darker")
    fig.subplots_adjust(left=0.01, right=0.93, bottom=0.03, top=0.86, wspace=0.45)
    return fig


# Lesson 3: outlines of several raters and of a model's samples.
SEGMENT_COLOURS = {1: ORANGE, 2: BLUE}  # lesion core, oedema rim
#: largest disagreement of 6 raters (or samples) over 3 labels, in percent: a 2-2-2 split (4 of 6 differ)
DISAGREEMENT_MAX = 100 * 4 / 6


def _segment_panel(ax: Axes, image: np.ndarray, labels: np.ndarray | None, title: str, opacity: float = 0.45) -> None:
    """The scan with a label map laid over it (lesion core orange, oedema rim blue), or alone if ``labels`` is None."""
    ax.imshow(image, cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    if labels is not None:
        layer = np.zeros(labels.shape + (4,))
        for value, colour in SEGMENT_COLOURS.items():
            layer[labels == value] = matplotlib.colors.to_rgba(colour, opacity)
        ax.imshow(layer, interpolation="nearest")
    _picture(ax, title)


def _segment_legend(fig: Figure) -> None:
    handles = [
        matplotlib.patches.Patch(color=colour, label=name)
        for name, colour in (("lesion core", SEGMENT_COLOURS[1]), ("oedema rim", SEGMENT_COLOURS[2]))
    ]
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False)


def _share_panel(
    ax: Axes,
    fig: Figure,
    share: np.ndarray,
    title: str,
    label: str | None,
    vmax: float = 100.0,
    scan: np.ndarray | None = None,
) -> None:
    """A map of shares (fractions, shown in percent from 0 to ``vmax``; cividis) with a colour bar, unless
    ``label`` is None (a shared bar follows). With ``scan``, the map is laid over the scan, see-through
    where the share is 0, so the scan stays visible beneath it."""
    percent = 100 * np.asarray(share, dtype=float)
    if scan is not None:
        ax.imshow(scan, cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
        percent = np.ma.masked_where(percent <= 0, percent)
    shown = ax.imshow(
        percent, cmap="cividis", vmin=0, vmax=vmax, alpha=0.8 if scan is not None else None, interpolation="nearest"
    )
    if label is not None:
        _colour_bar(fig, shown, ax, label)
    _picture(ax, title)


def plot_raters(image: np.ndarray, masks: np.ndarray, disagreement: np.ndarray, styles: list[str]) -> Figure:
    """The scan, each rater's outline (core orange, rim blue) and the raters' disagreement map."""
    fig, axes = _subplots(2, 4, figsize=(11, 5.6))
    _segment_panel(axes[0, 0], image, None, "Scan")
    _share_panel(axes[1, 0], fig, disagreement, "Disagreement", "% of raters who differ", DISAGREEMENT_MAX)
    for r, ax in enumerate([*axes[0, 1:], *axes[1, 1:]]):
        _segment_panel(ax, image, masks[r], f"Rater {r + 1}: {styles[r]}")
    _segment_legend(fig)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.07, top=0.94, wspace=0.4, hspace=0.2)
    return fig


def plot_single_answer(image: np.ndarray, labels: np.ndarray, disagreement: np.ndarray) -> Figure:
    """A deterministic network's one outline next to the raters' disagreement."""
    fig, axes = _subplots(1, 2, figsize=(7.4, 3.6))
    _segment_panel(axes[0], image, labels, "U-Net: its one answer")
    _share_panel(axes[1], fig, disagreement, "Where the raters disagree", "% of raters who differ", DISAGREEMENT_MAX)
    _segment_legend(fig)
    fig.subplots_adjust(left=0.01, right=0.9, bottom=0.1, top=0.9, wspace=0.2)
    return fig


def plot_samples(image: np.ndarray, samples: np.ndarray, masks: np.ndarray, title: str) -> Figure:
    """The newest sampled outline, how often all samples so far call a pixel lesion, the same for the raters
    (both shares laid over the scan)."""
    fig, axes = _subplots(1, 3, figsize=(11, 3.7))
    _segment_panel(axes[0], image, samples[-1], f"{title}\noutline {len(samples)} of this case and levels")
    _share_panel(axes[1], fig, (samples > 0).mean(0), f"Overlay of all {len(samples)} outlines", None, scan=image)
    _share_panel(
        axes[2],
        fig,
        (masks > 0).mean(0),
        f"Overlay of the {len(masks)} raters",
        "% calling the pixel lesion\n(core or rim), both overlays",
        scan=image,
    )
    _segment_legend(fig)
    fig.subplots_adjust(left=0.01, right=0.93, bottom=0.1, top=0.86, wspace=0.2)
    return fig


def plot_disagreement_pair(
    image: np.ndarray, predicted: np.ndarray, raters: np.ndarray, title: str, score: float
) -> Figure:
    """A model's disagreement map (between its samples) next to the raters', on the same scale."""
    fig, axes = _subplots(1, 3, figsize=(11, 3.6))
    _segment_panel(axes[0], image, None, "Scan")
    _share_panel(
        axes[1],
        fig,
        predicted,
        f"{title}\n(NCC with raters {score:.2f})",
        "% of samples that differ",
        DISAGREEMENT_MAX,
    )
    _share_panel(axes[2], fig, raters, "Raters", "% of raters who differ", DISAGREEMENT_MAX)
    fig.subplots_adjust(left=0.01, right=0.93, bottom=0.03, top=0.86, wspace=0.45)
    return fig


def plot_robustness(image: np.ndarray, samples: np.ndarray, disagreement: np.ndarray, caption: str) -> Figure:
    """A shifted scan, how often the model's samples call each pixel lesion, and where they disagree (both
    laid over the scan)."""
    fig, axes = _subplots(1, 3, figsize=(11, 3.6))
    _segment_panel(axes[0], image, None, caption)
    _share_panel(axes[1], fig, (samples > 0).mean(0), f"Overlay of {len(samples)} samples", None, scan=image)
    _share_panel(
        axes[2],
        fig,
        disagreement,
        f"Samples' disagreement: {100 * disagreement.mean():.1f} % on average",
        "% of samples: calling it lesion\n(middle), differing (right)",
        scan=image,
    )
    fig.subplots_adjust(left=0.01, right=0.93, bottom=0.03, top=0.86, wspace=0.2)
    return fig


def plot_referral(
    shares: np.ndarray,
    team: np.ndarray,
    model_alone: float,
    reader_alone: float,
    share: float,
    automation_bias: float,
    unbiased: np.ndarray | None = None,
) -> Figure:
    """Team accuracy against the share of cases referred to the reader, with the model alone and the
    reader alone as lines, and the chosen share marked (lesson 4's referral curve)."""
    fig, ax = _subplots(figsize=(6.4, 3.8))
    if unbiased is not None:
        ax.plot(100 * shares, 100 * unbiased, color=BLUE, alpha=0.35, lw=1.5, label="team, no automation bias")
    ax.plot(100 * shares, 100 * team, color=BLUE, lw=2.2, label=f"team, automation bias {automation_bias:.2f}")
    ax.axhline(100 * model_alone, color=ORANGE, ls="--", lw=1.5, label=f"model alone: {model_alone:.1%}")
    ax.axhline(100 * reader_alone, color=GREEN, ls=":", lw=2, label=f"reader alone: {reader_alone:.1%}")
    here = float(np.interp(share, shares, team))
    ax.plot([100 * share], [100 * here], "o", color="black", ms=7, label=f"{share:.0%} referred: {here:.1%}")
    ax.set_xlabel("Cases referred to the reader (%), least confident first")
    ax.set_ylabel("Cases decided right (%)")
    low = min(team.min(), model_alone, reader_alone)
    bottom = 10 * np.floor(10 * max(0.0, low - 0.03))
    ax.set_ylim(bottom, 100)
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_yticks(np.arange(bottom, 100.1, 5 if bottom >= 70 else 10))
    ax.set_title("Who decides: the model, the reader, or both?", y=1.0)  # a fixed title position: redraws fast
    ax.legend(loc="lower right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.14, top=0.9)  # fixed layout: redraws fast
    return fig


def plot_reliability(tables: dict[str, dict[str, np.ndarray]], eces: dict[str, float], title: str) -> Figure:
    """Reliability diagram: per bin of the predicted probability of disease, the share of cases that
    had it; one line per set of probabilities (the diagonal = perfectly calibrated)."""
    fig, ax = _subplots(figsize=(7.2, 4.2))
    ax.plot([0, 1], [0, 1], color=GREY, lw=1, label="perfectly calibrated")
    colours = [BLUE, ORANGE, GREEN, "#CC79A7", "#D55E00"]
    for (name, table), colour in zip(tables.items(), colours):
        used = table["count"] > 0
        size = 12 + 120 * table["count"][used] / table["count"].sum()
        ax.plot(table["predicted"][used], table["observed"][used], color=colour, lw=1.5)
        ax.scatter(
            table["predicted"][used],
            table["observed"][used],
            s=size,
            color=colour,
            zorder=3,
            label=f"{name}: ECE {eces[name]:.3f}",
        )
    ax.set_xlabel("Model's probability of AD (mean in each bin)")
    ax.set_ylabel("Share of those cases with AD")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)  # outside the curves
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def plot_shift_referral(shares: np.ndarray, curves: dict[str, np.ndarray], reader_alone: float) -> Figure:
    """Referral curves of the team on the test scans as they are and under each input change."""
    fig, ax = _subplots(figsize=(6.4, 3.8))
    styles = ["-", "--", "-.", ":"]
    colours = [BLUE, ORANGE, "#CC79A7", "#D55E00"]
    for (name, curve), ls, colour in zip(curves.items(), styles, colours):
        ax.plot(100 * shares, 100 * curve, ls=ls, color=colour, lw=2, label=name)
    ax.axhline(100 * reader_alone, color=GREEN, ls=":", lw=1.5, label=f"reader alone: {reader_alone:.1%}")
    ax.set_xlabel("Cases referred to the reader (%), least confident first")
    ax.set_ylabel("Cases decided right (%)")
    ax.set_ylim(40, 100)
    ax.set_xlim(0, 100)
    ax.set_title("The same team with a new scanner")
    ax.legend(loc="lower right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def plot_quality_scores(scores: dict[str, np.ndarray], threshold: float) -> Figure:
    """Histograms of the input-quality score per set of scans, with the threshold that flags a scan."""
    fig, ax = _subplots(figsize=(6.4, 3.4))
    top = max(float(np.max(s)) for s in scores.values())
    bins = np.geomspace(0.1, max(top, threshold) * 1.2, 50)
    colours = [BLUE, ORANGE, "#CC79A7", "#D55E00"]
    for (name, s), colour in zip(scores.items(), colours):
        ax.hist(np.maximum(s, 0.1), bins=bins, color=colour, alpha=0.6, label=name)
    ax.axvline(threshold, color="black", ls="--", lw=1.5, label=f"threshold: {threshold:.1f}")
    ax.set_xscale("log")
    ax.set_xlabel("Quality score: distance from the training scans (log scale)")
    ax.set_ylabel("Test scans")
    ax.set_title("Which scans look unlike the training scans?")
    ax.legend(loc="upper right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
