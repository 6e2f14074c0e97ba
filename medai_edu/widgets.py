"""ipywidgets explorers and self-check quizzes.

An explorer shows its controls above its figure. The figure is drawn into a widget (an HTML
``<img>`` with an ``alt`` text), so that it updates wherever widgets work: in JupyterLab and
in Voilà's code-free demo alike. The first figure is drawn while the cell runs, so a headless
run or a static render shows it too; later redraws run in a background thread that always
draws the controls' newest values and skips the ones a fast slider drag has already left
behind. (Explorers deliberately avoid ipywidgets' Output widget: nbclient, which papermill and
nbgrader use, can hang when output is captured into one while a cell runs.)"""

from __future__ import annotations

import atexit
import math
import os
import threading
import time
import traceback
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Protocol

import ipywidgets as w
import numpy as np
from IPython.display import HTML, display
from matplotlib.figure import Figure

from medai_edu import figure_html, viz

__all__ = [
    "NAME_SLIDER_HANDLES",
    "Explorer",
    "ppv_explorer",
    "quiz",
    "attribution_explorer",
    "brain_map_explorer",
    "severity_explorer",
    "sampling_explorer",
    "robustness_explorer",
    "referral_explorer",
]

CACHED_FIGURES = 64  # figures kept per explorer, so that returning to a setting is instant
# After a change, while nothing else is asked, draw the settings one step away on each control
# (a slider's next and previous value, a dropdown's neighbours), so the next step is instant.
PREFETCH = os.environ.get("MEDAI_EXPLORER_PREFETCH", "1") != "0"

# ipywidgets gives a slider's handle (what a keyboard or screen reader focuses) no accessible
# name; this names each handle after its slider's label, in JupyterLab and Voilà alike.
NAME_SLIDER_HANDLES = HTML("""<script>
(() => {
  if (window.medaiNamesSliders) return;
  window.medaiNamesSliders = true;
  const name = () => document.querySelectorAll('.widget-slider').forEach(slider => {
    const label = slider.querySelector('.widget-label');
    const text = label ? label.textContent.trim() : '';
    slider.querySelectorAll('.noUi-handle').forEach(handle => {
      if (text && handle.getAttribute('aria-label') !== text) handle.setAttribute('aria-label', text);
    });
  });
  new MutationObserver(name).observe(document.body, {subtree: true, childList: true});
  name();
})();
</script>""")


class Explorer(w.VBox):
    """Controls above a figure ``draw(**settings)`` that is redrawn whenever a control changes.

    ``actions`` maps buttons to functions called with the controls' values before the redraw;
    ``cache`` keeps finished figures by their settings (only for ``draw`` functions that always give
    the same figure for the same settings). The settings are the controls' values and, if ``state``
    is given, ``state(**values)``: further arguments of ``draw`` that no control sets but an action
    changes (how many outlines a pool shows), so that an action gives a new figure, never a stale one.
    ``ahead(**settings)`` lists further settings to draw in advance, such as those the next press of a
    button leads to.
    """

    def __init__(
        self,
        controls: Mapping[str, w.ValueWidget],
        draw: Callable[..., Figure],
        box: w.Widget,
        actions: Mapping[w.Button, Callable[..., None]] | None = None,
        cache: bool = True,
        state: Callable[..., dict] | None = None,
        ahead: Callable[..., list[dict]] | None = None,
    ) -> None:
        self.controls, self._draw, self._cache_on = dict(controls), draw, cache
        self._state, self._after_actions = state, ahead
        self.figure = w.HTML(layout=w.Layout(min_height="120px"))
        self.figure.add_class("medai-figure")
        super().__init__([box, self.figure])
        self.add_class("medai-explorer")
        self.draws = 0  # figures drawn for the screen (not counting those taken from the cache)
        self.drawn_ahead = 0  # figures drawn in advance, for the settings next to the current one
        self._ahead: list[dict] = []
        self._last_moved: tuple[str, bool] | None = None  # (control, moved up?)
        self._pressed = False  # whether the last request came from a button (not a control)
        self.last_figure: Figure | None = None
        self._cache: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()
        self._actions: list[Callable[[], None]] = []
        self._dirty = False
        self._worker: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()
        self._show(self.settings())
        _EXPLORERS.add(self)
        for name, control in self.controls.items():
            control.observe(lambda change, name=name: self._moved(name, change), names="value")
        for button, action in (actions or {}).items():
            button.on_click(lambda _, act=action: self.request(lambda: act(**self.values())))

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def settings(self, values: dict | None = None) -> dict:
        """What ``draw`` is called with: the controls' values (default: the current ones) and their state."""
        values = self.values() if values is None else values
        return {**values, **self._state(**values)} if self._state is not None else values

    def _moved(self, name: str, change: dict) -> None:
        self._last_moved = name, _went_up(self.controls[name], change["old"], change["new"])
        self._pressed = False
        self.request()

    def request(self, action: Callable[[], None] | None = None) -> None:
        """Redraw soon (after ``action``), in the background; returns at once."""
        with self._lock:
            if action is not None:
                self._actions.append(action)
                self._pressed = True
            self._dirty = True
            self._ahead = []  # the neighbours of the old values are no longer what comes next
            self._idle.clear()
            if self._worker is not None:
                return  # the running worker picks the request up
            self._worker = threading.Thread(target=self._work, name="medai-explorer", daemon=True)
            self._worker.start()

    def settle(self, timeout: float = 60.0, ahead: bool = False) -> None:
        """Wait until every requested redraw is on screen (``ahead``: and the figures drawn in advance)."""
        deadline = time.monotonic() + timeout
        while not self._idle.wait(0.01) or (ahead and self._worker is not None):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the explorer was still drawing after {timeout:.0f} s")

    def _work(self) -> None:
        while True:
            with self._lock:
                actions, self._actions = self._actions, []
                requested, self._dirty = self._dirty or bool(actions), False
                ahead = self._ahead.pop(0) if not requested and self._ahead else None
                if not requested and ahead is None:
                    self._worker = None
                    self._idle.set()
                    return
            try:
                if ahead is not None:
                    self._html(ahead)  # drawn into the cache only
                    continue
                for action in actions:
                    action()
                settings = self.settings()  # the newest values: stale requests are skipped
                self.figure.value = self._html(settings, shown=True)
            except Exception as error:  # shown in place of the figure, and in the kernel's log
                traceback.print_exc()
                self.figure.value = (
                    f'<p role="alert">This figure could not be drawn: {type(error).__name__}: {error}</p>'
                )
                continue
            upcoming = self._next_settings(settings) if PREFETCH and self._cache_on else []
            with self._lock:
                if not self._dirty and not self._actions:
                    self._idle.set()
                    self._ahead = upcoming

    def _show(self, settings: dict) -> None:
        self.figure.value = self._html(settings, shown=True)

    def _html(self, settings: dict, shown: bool = False) -> str:
        """The figure for ``settings`` as HTML, from the cache or drawn (``shown``: it goes on screen)."""
        key = self._key(settings)
        if key is not None and key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        with viz.offscreen():
            fig = self._draw(**settings)
        html = figure_html.img_html(figure_html.png_bytes(fig), figure_html.describe(fig))
        if shown:
            self.draws += 1
            self.last_figure = fig
        else:
            self.drawn_ahead += 1
        if key is not None:
            self._cache[key] = html
            while len(self._cache) > CACHED_FIGURES:
                self._cache.popitem(last=False)
        return html

    def _next_settings(self, settings: dict) -> list[dict]:
        """The settings a user most likely picks next, not in the cache yet (drawn one at a time while the
        explorer is idle): one more step of the control moved last, in the same direction, then one step
        back, and those of ``ahead`` (first, when a button was pressed last)."""
        moves = []
        if self._last_moved is not None:
            name, up = self._last_moved
            values = {control: settings[control] for control in self.controls}
            steps = _next_values(self.controls[name])  # [one step up, one step down] where they exist
            moves = [self.settings({**values, name: value}) for _, value in sorted(steps, key=lambda v: v[0] != up)]
        presses = self._after_actions(**settings) if self._after_actions is not None else []
        ordered = presses + moves if self._pressed else moves + presses
        return [candidate for candidate in ordered if self._key(candidate) not in self._cache]

    def _key(self, settings: dict) -> Hashable | None:
        if not self._cache_on:
            return None
        key = tuple((name, float(f"{v:.9g}") if isinstance(v, float) else v) for name, v in settings.items())
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget, and the current figure for renderers without widgets (static HTML, nbviewer)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if data is not None:
            data["text/html"] = self.figure.value
        return bundle


_EXPLORERS: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _stop_drawing_ahead() -> None:
    """At exit, let every explorer finish the figure it is drawing and drop the rest (a thread killed
    while matplotlib draws aborts the interpreter)."""
    for explorer in list(_EXPLORERS):
        with explorer._lock:
            explorer._ahead = []
        worker = explorer._worker
        if worker is not None:
            worker.join(timeout=30)


def _next_values(control: w.ValueWidget) -> list[tuple[bool, object]]:
    """The values one step up (True, value) and one step down (False, value) from ``control``'s value."""
    if hasattr(control, "_options_values") and control.index is not None:
        options, index = control._options_values, control.index
        return [(up, options[i]) for up, i in ((True, index + 1), (False, index - 1)) if 0 <= i < len(options)]
    if isinstance(control, w.FloatLogSlider):
        exponent = math.log(control.value, control.base)
        steps = [(True, exponent + control.step), (False, exponent - control.step)]
        return [(up, control.base**e) for up, e in steps if control.min <= e <= control.max]
    if isinstance(control, (w.IntSlider, w.FloatSlider)):
        steps = [(True, control.value + control.step), (False, control.value - control.step)]
        return [(up, type(control.value)(v)) for up, v in steps if control.min <= v <= control.max]
    return []


def _went_up(control: w.ValueWidget, old: Any, new: Any) -> bool:
    """Whether a change moved ``control`` up (to a higher value, or a later option)."""
    if hasattr(control, "_options_values"):
        options = list(control._options_values)
        return old not in options or new not in options or options.index(new) > options.index(old)
    try:
        return new > old
    except TypeError:
        return True


def _explorer(
    controls: Mapping[str, w.ValueWidget],
    draw: Callable[..., Figure],
    box: w.Widget,
    actions: Mapping[w.Button, Callable[..., None]] | None = None,
    state: Callable[..., dict] | None = None,
    ahead: Callable[..., list[dict]] | None = None,
) -> Explorer:
    """Build an :class:`Explorer` and show it."""
    explorer = Explorer(controls, draw, box, actions, state=state, ahead=ahead)
    display(NAME_SLIDER_HANDLES)
    display(explorer)
    return explorer


def _note(text: str) -> w.HTML:
    """A short note under an explorer's controls (what the colours or a counter mean)."""
    return w.HTML(f'<p class="medai-note" style="margin:2px 0 4px;font-size:0.9em">{text}</p>')


PER_IMAGE_SCALE = (
    "Colours: each map uses its own colour scale (its strongest pixel sets the top of the colour bar), so compare "
    "where a map is bright, not how bright it is, between images and methods."
)


def ppv_explorer() -> Explorer:
    """Sliders for sensitivity, specificity and prevalence; the PPV curve follows them."""
    style = {"description_width": "110px"}
    sliders = {
        "sensitivity": w.FloatSlider(0.9, min=0.5, max=1.0, step=0.01, description="Sensitivity", style=style),
        "specificity": w.FloatSlider(0.9, min=0.5, max=1.0, step=0.01, description="Specificity", style=style),
        "prevalence": w.FloatLogSlider(
            0.05, base=10, min=-3, max=-0.05, step=0.05, description="Prevalence", readout_format=".3f", style=style
        ),
    }
    return _explorer(sliders, viz.plot_ppv_vs_prevalence, w.VBox(list(sliders.values())))


def quiz(question: str, options: Mapping[str, str], correct: str, explanations: Mapping[str, str]) -> w.Widget:
    """A self-check multiple-choice question: pick an answer, press Check, read why."""
    if correct not in options:
        raise ValueError(f"correct answer {correct!r} is not one of the options {list(options)}.")
    choice = w.RadioButtons(
        options=[(f"{key}. {text}", key) for key, text in options.items()], value=None, layout=w.Layout(width="auto")
    )
    button = w.Button(description="Check", button_style="primary")
    feedback = w.HTML()

    def on_check(_: object) -> None:
        if choice.value is None:
            feedback.value = "Pick an answer first."
            return
        verdict = "✅ Right." if choice.value == correct else "❌ Not quite."
        feedback.value = f"<b>{verdict}</b> {explanations.get(choice.value, '')}"

    button.on_click(on_check)
    box = w.VBox([w.HTML(f"<b>{question}</b>"), choice, button, feedback])
    display(box)
    return box


def attribution_explorer(
    images: np.ndarray, masks: np.ndarray, maps: Mapping[str, np.ndarray], method: str | None = None
) -> Explorer:
    """Pick an image (counted from 1), a method and how many top pixels to outline; see image, map and truth.

    ``maps[method]`` holds precomputed maps ``[N, H, W]`` for the ``N`` images, so moving a
    control only redraws; ``method`` is the one shown first (default: the first in ``maps``).
    """
    if not maps:
        raise ValueError("maps is empty: compute at least one method's maps first.")
    if method is not None and method not in maps:
        raise ValueError(f"method {method!r} has no maps; choose one of {', '.join(maps)}.")
    style = {"description_width": "130px"}
    labels = [(viz.METHOD_LABELS.get(m, m), m) for m in maps]
    controls = {
        "image": w.IntSlider(1, min=1, max=len(images), description="Image", style=style),
        "method": w.Dropdown(
            options=labels,
            value=method or next(iter(maps)),
            description="Method",
            style=style,
            layout=w.Layout(width="auto"),  # as wide as its longest label, never cut off
        ),
        "top_percent": w.IntSlider(5, min=0, max=50, description="Outline top %", style=style),
    }

    def draw(image: int, method: str, top_percent: int) -> Figure:
        i = image - 1
        return viz.plot_attribution(
            images[i], masks[i], maps[method][i], method, top_fraction=top_percent / 100 or None
        )

    box = w.VBox([w.HBox([controls["image"], controls["method"]]), controls["top_percent"], _note(PER_IMAGE_SCALE)])
    return _explorer(controls, draw, box)


class BrainCases(Protocol):
    """What :func:`brain_map_explorer` reads of a lesson's cases (arrays [N, H, W]; read only)."""

    @property
    def images(self) -> np.ndarray: ...
    @property
    def effects(self) -> np.ndarray: ...
    @property
    def hippocampus(self) -> np.ndarray: ...


def brain_map_explorer(
    cases: BrainCases,
    maps: Mapping[str, np.ndarray],
    close_up: Callable[[np.ndarray], tuple[slice, slice]],
    method: str | None = None,
) -> Explorer:
    """Pick a subject (counted from 1), a method and the overlay strength; see the map, a hippocampus
    close-up, the truth.

    ``cases`` holds ``images``, ``effects`` and ``hippocampus`` arrays [N, H, W]; ``maps[method]``
    the precomputed maps; ``close_up(hippocampus_mask)`` gives the close-up window.
    """
    if method is not None and method not in maps:
        raise ValueError(f"method {method!r} has no maps; choose one of {', '.join(maps)}.")
    style = {"description_width": "110px"}
    labels = [(viz.METHOD_LABELS.get(m, m), m) for m in maps]
    controls = {
        "subject": w.IntSlider(1, min=1, max=len(cases.images), description="Subject", style=style),
        "method": w.Dropdown(
            options=labels,
            value=method or next(iter(maps)),
            description="Method",
            style=style,
            layout=w.Layout(width="auto"),  # as wide as its longest label, never cut off
        ),
        "overlay": w.FloatSlider(0.6, min=0.0, max=1.0, step=0.05, description="Overlay strength", style=style),
    }

    def draw(subject: int, method: str, overlay: float) -> Figure:
        i = subject - 1
        return viz.plot_brain_map(
            cases.images[i],
            cases.effects[i],
            maps[method][i],
            method,
            cases.hippocampus[i],
            overlay,
            close_up(cases.hippocampus[i]),
        )

    note = _note(PER_IMAGE_SCALE + " The close-up has a scale of its own as well.")
    box = w.VBox([w.HBox([controls["subject"], controls["method"]]), controls["overlay"], note])
    return _explorer(controls, draw, box)


def severity_explorer(subject: Callable[[int, float], dict], subjects: list[int]) -> Explorer:
    """Move the disease severity of a simulated subject; ``subject(index, severity)`` gives the panels."""
    style = {"description_width": "110px"}
    controls = {
        "index": w.Dropdown(
            options=[(f"subject {int(i)}", int(i)) for i in subjects],
            value=int(subjects[0]),
            description="Subject",
            style=style,
        ),
        "severity": w.FloatSlider(0.8, min=0.0, max=1.5, step=0.05, description="Severity", style=style),
    }

    def draw(index: int, severity: float) -> Figure:
        return viz.plot_severity(**subject(index, round(severity, 2)))  # the slider's positions, as precomputed

    note = _note(
        "Colours: the true effect keeps one scale for every subject and severity; VA-GAN's map has its own scale "
        "for each scan (its strongest pixel sets the top of its colour bar), because its maps are fainter."
    )
    return _explorer(controls, draw, w.VBox([w.HBox(list(controls.values())), note]))


class OutlinePool(Protocol):
    """What :func:`sampling_explorer` reads of a :class:`~medai_edu.lessons.uncertainty.SamplePool`."""

    images: np.ndarray
    start: int

    def count(self, case: int, level: int | None) -> int: ...

    def outlines(self, case: int, level: int | None, n: int) -> np.ndarray: ...

    def draw_another(self, case: int, level: int | None) -> np.ndarray: ...


def sampling_explorer(
    pool: OutlinePool, masks: np.ndarray, levels: list[tuple[str, int | None]], title: str
) -> Explorer:
    """Pick a case (counted from 1) and which latent levels vary; press the button to draw another outline.

    ``pool`` is a :class:`~medai_edu.lessons.uncertainty.SamplePool` over the cases' images;
    ``masks[case]`` are the raters' label maps; ``levels`` the (label, level) choices, the first
    shown at the start (a level may be None, "all levels": the dropdown itself holds positions).
    Each case and choice of levels keeps its own outlines, and the explorer says so next to its count.
    A figure is kept by case, choice and the number of outlines shown, so that coming back to a case is
    instant and a press always shows the new outline; the figure after the next press is drawn ahead.
    """
    style = {"description_width": "110px"}
    labels = [label for label, _ in levels]
    controls = {
        "case": w.IntSlider(1, min=1, max=len(masks), description="Case", style=style),
        "choice": w.Dropdown(
            options=[(label, i) for i, label in enumerate(labels)],
            value=0,
            description="Latent levels",
            style=style,
            layout=w.Layout(width="auto"),  # as wide as its longest label, never cut off
        ),
    }
    button = w.Button(
        description="Draw another plausible outline", button_style="primary", layout=w.Layout(width="260px")
    )
    note = _note(
        f"Each case and each choice of latent levels keeps its own outlines: changing either shows that "
        f"combination's outlines, whose count starts at {pool.start}, and coming back shows yours again."
    )

    def shown(case: int, choice: int) -> dict:
        return {"outlines": pool.count(case - 1, levels[choice][1])}

    def draw(case: int, choice: int, outlines: int) -> Figure:
        samples = pool.outlines(case - 1, levels[choice][1], outlines)
        return viz.plot_samples(pool.images[case - 1][0], samples, masks[case - 1], title)

    def draw_another(case: int, choice: int) -> None:
        pool.draw_another(case - 1, levels[choice][1])

    def next_press(case: int, choice: int, outlines: int) -> list[dict]:
        return [{"case": case, "choice": choice, "outlines": outlines + 1}]

    box = w.VBox([w.HBox(list(controls.values())), button, note])
    return _explorer(controls, draw, box, {button: draw_another}, state=shown, ahead=next_press)


def robustness_explorer(grid: Mapping[tuple[str, float], dict]) -> Explorer:
    """Choose a kind of input shift and its amount; see the model's samples and their disagreement.

    ``grid[(kind, amount)]`` holds the shifted ``image`` [1, H, W], the sampled label maps
    ``samples`` and their ``disagreement`` map (:func:`medai_edu.lessons.uncertainty.robustness_grid`).
    """
    style = {"description_width": "110px"}
    kinds = list(dict.fromkeys(kind for kind, _ in grid))
    amounts = sorted({amount for _, amount in grid})
    controls = {
        "kind": w.Dropdown(options=kinds, value=kinds[0], description="Shift", style=style),
        "amount": w.SelectionSlider(options=amounts, value=amounts[0], description="Amount", style=style),
    }

    def draw(kind: str, amount: float) -> Figure:
        cell = grid[(kind, amount)]
        caption = f"Scan with {kind} shift {amount:.1f}\n(0 = none, 1 = strongest)"
        return viz.plot_robustness(cell["image"][0], cell["samples"], cell["disagreement"], caption)

    return _explorer(controls, draw, w.HBox(list(controls.values())))


class ReferralStudy(Protocol):
    """What :func:`referral_explorer` reads of a :class:`~medai_edu.lessons.human_with_ai.Study`."""

    @property
    def shares(self) -> np.ndarray: ...

    def curve(self, condition: str = "clean", automation_bias: float = 0.0) -> np.ndarray: ...

    def model_alone(self) -> float: ...

    def reader_alone(self) -> float: ...


def referral_explorer(study: ReferralStudy, share: float = 0.3) -> Explorer:
    """Sliders for the share of cases referred and the reader's automation bias; the referral curve follows.

    ``study`` is a :class:`~medai_edu.lessons.human_with_ai.Study`; the curve is the team's accuracy on its
    clean test cases (the faint line: the same reader without automation bias).
    """
    style = {"description_width": "150px"}
    controls = {
        "share": w.FloatSlider(share, min=0.0, max=1.0, step=0.05, description="Share referred", style=style),
        "automation_bias": w.FloatSlider(0.0, min=0.0, max=1.0, step=0.05, description="Automation bias", style=style),
    }
    unbiased = study.curve("clean", 0.0)

    def draw(share: float, automation_bias: float) -> Figure:
        team = study.curve("clean", automation_bias)
        return viz.plot_referral(
            study.shares,
            team,
            study.model_alone(),
            study.reader_alone(),
            share,
            automation_bias,
            unbiased if automation_bias > 0 else None,
        )

    return _explorer(controls, draw, w.VBox(list(controls.values())))
