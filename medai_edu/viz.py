"""Plotting helpers: colour-blind-safe colours, a colour bar or legend on every figure."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

# Okabe–Ito colours: distinguishable with every common colour-vision deficiency.
BLUE, ORANGE, GREEN, GREY = "#0072B2", "#E69F00", "#009E73", "#999999"


def plot_workload_gap(imaging_growth: float = 31, radiologist_growth: float = 18) -> Figure:
    """Bar chart: growth of imaging volume versus growth of the radiologist workforce (%)."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    bars = ax.bar(
        ["Imaging studies", "Radiologists"], [imaging_growth, radiologist_growth], color=[BLUE, ORANGE]
    )
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
    fig, ax = plt.subplots(figsize=(5.8, 3.8))
    image = ax.imshow(counts, cmap="cividis")
    labels = [["true positive (TP)", "false negative (FN)"], ["false positive (FP)", "true negative (TN)"]]
    for (row, col), value in np.ndenumerate(counts):
        dark = value < counts.max() / 2
        ax.text(col, row, f"{labels[row][col]}\n{value}", ha="center", va="center",
                color="white" if dark else "black", fontsize=9)
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
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.plot(grid * 100, ppv_curve(sensitivity, specificity, grid) * 100, color=BLUE,
            label="positive predictive value")
    here = float(ppv_curve(sensitivity, specificity, np.array([prevalence]))[0])
    ax.plot([prevalence * 100], [here * 100], "o", color=ORANGE, label=f"your setting: {here:.0%}")
    ax.set_xscale("log")
    ax.set_xlabel("Prevalence: patients with the disease (%)")
    ax.set_ylabel("Flags that are right (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"Sensitivity {sensitivity:.0%}, specificity {specificity:.0%}")
    ax.legend(loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
