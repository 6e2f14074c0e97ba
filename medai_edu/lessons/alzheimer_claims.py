"""What lesson 2 (Alzheimer's disease maps) says, bound to what was measured (:mod:`medai_edu.claims`); its steps: :mod:`.alzheimer`."""

from __future__ import annotations

from medai_edu import claims
from medai_edu.lessons.alzheimer import BENCHMARK_FILE

__all__ = ["CLAIMS", "DEFINITIONS"]

# --- what the lesson's text says, bound to the shipped benchmark (design §5b) -----------------
BENCHMARK = BENCHMARK_FILE.name
SALIENCY = ("vanilla_gradient", "guided_backprop", "grad_cam", "occlusion", "integrated_gradients")


def _scores(score: str, prefix: str = "") -> dict[str, claims.Field]:
    """One benchmark score of every method, by method name."""
    return {m: claims.Field(BENCHMARK, f"{prefix}methods.{m}.{score}") for m in ("vagan", *SALIENCY)}


def _best_saliency(v: dict[str, float]) -> str:
    return max(SALIENCY, key=lambda m: v[m])


_N = {"n": claims.Field(BENCHMARK, "data.n_images")}
_WHOLE = {"n": "{:d}"}


def _lead(prefix: str, end: str | None = None) -> claims.Computed:
    """VA-GAN's whole-slice NCC minus the best saliency method's (``end``: "low"/"high" of its 95 % interval)."""
    target = f"{prefix}targets.whole_brain"
    if end is None:
        return claims.Computed(
            lambda: (
                claims.Field(BENCHMARK, f"{target}.vagan").read()
                - claims.Field(BENCHMARK, f"{target}.best_saliency_ncc").read()
            ),
            f"{target}: VA-GAN minus the best saliency method",
        )
    return claims.Computed(
        lambda: claims.Field(BENCHMARK, f"{target}.lead_ci95").read()[0 if end == "low" else 1],
        f"{target}: the lead's 95 % bootstrap interval, {end} end",
    )


CLAIMS = [
    claims.Claim(
        "limits_box_lead",
        "Here VA-GAN's map leads the best saliency map by {lead} NCC over the whole slice (95 % "
        "[bootstrap](../00_welcome/glossary.md#bootstrap) interval "
        "{low} to {high}; final test set {final_lead}, from {final_low} to {final_high}).",
        {
            "lead": _lead(""),
            "low": _lead("", "low"),
            "high": _lead("", "high"),
            "final_lead": _lead("final_test."),
            "final_low": _lead("final_test.", "low"),
            "final_high": _lead("final_test.", "high"),
        },
        lambda v: v["low"] > 0.2 and v["final_low"] > 0.2,
        {k: "{:.3f}" for k in ("lead", "low", "high", "final_lead", "final_low", "final_high")},
    ),
    claims.Claim(
        "vagan_matches_the_whole_effect_best",
        "On all {n} Alzheimer's test subjects of the benchmark, VA-GAN's map matches the true effect with a mean NCC "
        "of {vagan}; the best saliency method, [guided backprop](../00_welcome/glossary.md#guided-backprop), reaches "
        "{guided_backprop}.",
        {**_N, **_scores("ncc_mean")},
        lambda v: v["vagan"] > v["guided_backprop"] and _best_saliency(v) == "guided_backprop",
        _WHOLE,
    ),
    claims.Claim(
        "same_on_the_final_test_set",
        "On the final test set, made afterwards from a different random [seed](../00_welcome/glossary.md#seed), "
        "the numbers are {vagan} and {guided_backprop}.",
        _scores("ncc_mean", "final_test."),
        lambda v: v["vagan"] > v["guided_backprop"] and _best_saliency(v) == "guided_backprop",
    ),
    claims.Claim(
        "saliency_sits_on_the_ventricles",
        "Relative to the slice's average, the true effect is {truth_ventricles} times as strong on the ventricles and "
        "{truth} times on the hippocampus; guided backprop's map is {ventricles} and {hippocampus} times as strong "
        "there. Its map is spread more widely than the true effect, and it falls further short of the truth on the "
        "hippocampus than on the ventricles (on the final test set too).",
        {
            "ventricles": claims.Field(BENCHMARK, "methods.guided_backprop.ventricles"),
            "hippocampus": claims.Field(BENCHMARK, "methods.guided_backprop.hippocampus"),
            "truth": claims.Field(BENCHMARK, "true_effect_regions.hippocampus"),
            "truth_ventricles": claims.Field(BENCHMARK, "true_effect_regions.ventricles"),
            **{
                f"final_{k}": claims.Field(BENCHMARK, f"final_test.{path}")
                for k, path in (
                    ("ventricles", "methods.guided_backprop.ventricles"),
                    ("hippocampus", "methods.guided_backprop.hippocampus"),
                    ("truth", "true_effect_regions.hippocampus"),
                    ("truth_ventricles", "true_effect_regions.ventricles"),
                )
            },
        },
        lambda v: all(
            v[f"{p}ventricles"] < v[f"{p}truth_ventricles"]
            and v[f"{p}hippocampus"] < v[f"{p}truth"]
            and v[f"{p}hippocampus"] / v[f"{p}truth"] < v[f"{p}ventricles"] / v[f"{p}truth_ventricles"]
            for p in ("", "final_")
        ),
        {"ventricles": "{:.0f}", "hippocampus": "{:.0f}", "truth": "{:.0f}", "truth_ventricles": "{:.0f}"},
    ),
    claims.Claim(
        "vagan_finds_the_hippocampal_change",
        "Inside the close-up windows around the hippocampi, VA-GAN's map correlates with the true effect at an NCC of "
        "{vagan}, guided backprop's at {guided_backprop} and every other saliency method's at {others} or less "
        "(final test set: {final_vagan} and {final_guided_backprop}).",
        {
            **_scores("hippocampus_window_ncc"),
            "others": claims.Computed(
                lambda: max(
                    claims.Field(BENCHMARK, f"methods.{m}.hippocampus_window_ncc").read()
                    for m in SALIENCY
                    if m != "guided_backprop"
                ),
                "best other saliency window NCC",
            ),
            "final_vagan": claims.Field(BENCHMARK, "final_test.methods.vagan.hippocampus_window_ncc"),
            "final_guided_backprop": claims.Field(
                BENCHMARK, "final_test.methods.guided_backprop.hippocampus_window_ncc"
            ),
        },
        lambda v: (
            v["vagan"] >= 0.5
            and v["vagan"] >= v["guided_backprop"] + 0.2
            and _best_saliency(v) == "guided_backprop"
            and v["final_vagan"] >= v["final_guided_backprop"] + 0.2
        ),
    ),
    claims.Claim(
        "alt_text_vagan_marks_both_changes",
        "VA-GAN's map is blue at the ventricle rims and at the hippocampi.",
        {
            "window": claims.Field(BENCHMARK, "methods.vagan.hippocampus_window_ncc"),
            "hippocampus": claims.Field(BENCHMARK, "methods.vagan.hippocampus"),
            "ventricles": claims.Field(BENCHMARK, "methods.vagan.ventricles"),
        },
        lambda v: v["window"] >= 0.5 and v["hippocampus"] > 2 and v["ventricles"] > 2,
    ),
    claims.Claim(
        "summary_vagan_best_where_it_matters",
        "On the benchmark VA-GAN's map matched the true effect best of all methods, over the whole slice (NCC {vagan}) "
        "and in the hippocampus close-ups (NCC {window}), where the saliency maps reached at most {saliency_window}.",
        {
            **_scores("ncc_mean"),
            "window": claims.Field(BENCHMARK, "methods.vagan.hippocampus_window_ncc"),
            "saliency_window": claims.Computed(
                lambda: max(claims.Field(BENCHMARK, f"methods.{m}.hippocampus_window_ncc").read() for m in SALIENCY),
                "best saliency window NCC",
            ),
        },
        lambda v: v["vagan"] > max(v[m] for m in SALIENCY) and v["window"] > v["saliency_window"],
    ),
]

#: sentences the claims test flags that define a term rather than report a measurement
DEFINITIONS = (
    "means memory or thinking is worse than expected for a person's age",
    "0.5 is guessing, 1.0 is perfect separation",
    "move the severity slider to 1.00",  # the questions' settings
    "The cell below shows the first subject at severity 0.8, as Figure 2 did.",
    "Change `0.8` to `0` and run the cell",
)
