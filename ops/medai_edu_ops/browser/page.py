"""Drive the course in Debian's Chromium with Playwright: JupyterLab notebooks, Voilà demos, explorers.

Everything here acts as a user does (menus, keyboard, mouse) and reads what the page shows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright


CHROMIUM = os.environ.get("MEDAI_CHROMIUM", "/usr/bin/chromium")
LOCAL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?/")
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# Marks the browser time of the last user input and of each new explorer image on screen.
RECORDER = """
(() => {
  if (window.medaiRecorder) return;
  const rec = window.medaiRecorder = {lastInput: 0, paints: []};
  for (const type of ['keydown', 'pointerdown', 'change', 'click'])
    document.addEventListener(type, e => { rec.lastInput = performance.now(); }, true);
  const seen = new WeakMap();
  const check = () => document.querySelectorAll('.medai-figure').forEach((fig, index) => {
    const img = fig.querySelector('img');
    if (!img || seen.get(fig) === img.src) return;
    seen.set(fig, img.src);
    const input = rec.lastInput;
    img.decode().catch(() => {}).then(() => requestAnimationFrame(() => requestAnimationFrame(() =>
      rec.paints.push({index, input, painted: performance.now()}))));
  });
  const start = () => {
    new MutationObserver(check).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                         attributeFilter: ['src']});
    check();
  };
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
"""


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, in one line; None when they can."""
    if not Path(CHROMIUM).exists():
        return (
            f"no Chromium at {CHROMIUM}: run `make test` as root (it installs Debian's chromium) or set MEDAI_CHROMIUM"
        )
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed: run `make test` (it installs the pinned version)"
    return None


@dataclass
class Watch:
    """What a page did that a course page must not: console errors, uncaught errors, requests off this machine."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext, page: Page, refuse_offsite: bool = True) -> None:
        """Listen to ``page`` and note every request of ``context`` that leaves this machine; ``refuse_offsite``
        also stops them. Refusing needs Playwright's request interception, and with it on Chromium drops
        the last request of a page being left (Voilà's kernel shutdown): pages whose leaving is tested note only."""
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("websocket", lambda ws: None if _local(ws.url) else self.offsite.append(ws.url))
        context.on("request", lambda request: None if _local(request.url) else self.offsite.append(request.url))
        if refuse_offsite:
            context.route(lambda url: not _local(url), lambda route: route.abort())

    def check(self, where: str) -> None:
        """Fail, naming ``where``, if the page did any of it."""
        assert not self.offsite, f"{where}: requests left this machine: {self.offsite}"
        assert not self.page_errors, f"{where}: uncaught errors in the page: {self.page_errors}"
        assert not self.console_errors, f"{where}: console errors: {self.console_errors}"


def _local(url: str) -> bool:
    return bool(LOCAL.match(url)) or url.startswith(("data:", "blob:", "about:"))


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless (Playwright's own browser downloads are not possible here)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])


@contextmanager
def chromium() -> Iterator:
    """Debian's Chromium, started and closed again (Playwright's sync API)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Browser, watch: Watch, width: int = 1280, height: int = 900, refuse_offsite: bool = True) -> Page:
    """A page in a fresh browser context (no cookies), watched (see :meth:`Watch.attach`)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    watch.attach(context, page, refuse_offsite)
    page.add_init_script(RECORDER)
    return page


# --- JupyterLab -------------------------------------------------------------------------------------


def fresh_copy(notebooks: list[Path], folder: Path, quick: bool = True) -> list[str]:
    """Copy each ``<lesson>/<lesson>.ipynb`` into ``folder`` (quick mode set in its parameters cell); returns the paths."""
    paths = []
    for source in notebooks:
        target = folder / source.parent.name / source.name
        shutil.copytree(source.parent, target.parent, dirs_exist_ok=True)
        notebook = json.loads(source.read_text())
        if quick:
            for cell in notebook["cells"]:
                if "parameters" in cell.get("metadata", {}).get("tags", []):
                    text = "".join(cell["source"])
                    if "QUICK = False" not in text:
                        raise ValueError(f"{source}: its parameters cell has no 'QUICK = False' to switch")
                    cell["source"] = text.replace("QUICK = False", "QUICK = True")
        target.write_text(json.dumps(notebook, indent=1))
        paths.append(f"{source.parent.name}/{source.name}")
    return paths


def api(base: str, token: str, path: str) -> dict:
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def shutdown_kernels(base: str, token: str) -> None:
    """Stop every kernel of the server (a closed page leaves its notebook's kernel running)."""
    for kernel in api(base, token, "/api/kernels"):
        request = urllib.request.Request(
            f"{base}/api/kernels/{kernel['id']}", method="DELETE", headers={"Authorization": f"token {token}"}
        )
        urllib.request.urlopen(request, timeout=30).close()


def open_notebook(page: Page, base: str, token: str, path: str, workspace: str, timeout: float = 120) -> None:
    """Open ``path`` in a fresh workspace and wait until all its cells are on the page and the kernel is idle."""
    n_cells = len(api(base, token, f"/api/contents/{path}?content=1")["content"]["cells"])
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{path}?token={token}&reset", timeout=timeout * 1000)
    page.wait_for_function(
        f"document.querySelectorAll('{NOTEBOOK} .jp-Cell').length === {n_cells}", timeout=timeout * 1000
    )
    wait_idle(page, timeout)


def wait_idle(page: Page, timeout: float) -> None:
    """Until no cell shows [*] and the kernel says idle twice in a row, half a second apart."""
    deadline, idle_before = time.monotonic() + timeout, False
    while time.monotonic() < deadline:
        busy = page.locator(f"{NOTEBOOK} .jp-InputPrompt", has_text="[*]").count()
        status = page.locator(f"{NOTEBOOK} .jp-Notebook-ExecutionIndicator").first.get_attribute("data-status")
        idle = busy == 0 and status == "idle"
        if idle and idle_before:
            return
        idle_before = idle
        page.wait_for_timeout(500)
    raise TimeoutError(f"the notebook was still running after {timeout:.0f} s")


def menu(page: Page, *labels: str) -> None:
    """Click through JupyterLab's menu bar, e.g. ``menu(page, "Run", "Run All Cells")``."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(labels[0])}$")).click()
    for label in labels[1:]:
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")).click()


def run_all(page: Page, timeout: float) -> float:
    """Run > Run All Cells, then wait until the kernel is done; returns the seconds it took."""
    start = time.monotonic()
    menu(page, "Run", "Run All Cells")
    page.wait_for_timeout(1000)
    wait_idle(page, timeout)
    return time.monotonic() - start


def saved_outputs(page: Page, base: str, token: str, path: str) -> list[dict]:
    """Save the notebook through the menu and read back its outputs, as the server stored them."""
    menu(page, "File", "Save Notebook")
    page.wait_for_timeout(1500)
    cells = api(base, token, f"/api/contents/{path}?content=1")["content"]["cells"]
    return [output for cell in cells if cell["cell_type"] == "code" for output in cell["outputs"]]


# --- what the page shows ----------------------------------------------------------------------------


def widget_problems(page: Page, scope: str) -> list[str]:
    """Widgets that failed to render or never finished loading."""
    problems = []
    for text in ("Error displaying widget", "Loading widget", "Model not found"):
        count = page.locator(scope).get_by_text(text).count()
        if count:
            problems.append(f"{count} x '{text}'")
    return problems


def explorers(page: Page, scope: str) -> Locator:
    return page.locator(f"{scope} .medai-explorer")


def image_source(explorer: Locator) -> str:
    return explorer.locator(".medai-figure img").first.get_attribute("src", timeout=30_000) or ""


def change_control(page: Page, explorer: Locator, kind: str | None = None, forward: bool = True) -> str:
    """Change one control of ``explorer`` as a user would: a slider by the keyboard, a dropdown by
    choosing the next option, a button by clicking it; ``kind`` picks one ('slider', 'dropdown', 'button')."""
    kinds = [kind] if kind else ["slider", "dropdown", "button"]
    for k in kinds:
        if k == "slider" and explorer.locator(".noUi-handle").count():
            handle = explorer.locator(".noUi-handle").first
            handle.focus()
            page.keyboard.press("ArrowRight" if forward else "ArrowLeft")
            return "slider"
        if k == "dropdown" and explorer.locator("select").count():
            select = explorer.locator("select").first
            options = select.locator("option").all_text_contents()
            current = select.evaluate("s => s.selectedIndex")
            select.select_option(index=(current + (1 if forward else -1)) % len(options))
            return "dropdown"
        if k == "button" and explorer.locator("button").count():
            explorer.locator("button").first.click()
            return "button"
    raise ValueError(f"the explorer has no control of kind {kind or 'any'}")


def wait_new_image(page: Page, explorer: Locator, before: str, timeout: float = 60) -> str:
    """Wait until the explorer's figure differs from ``before`` (compares the image bytes); returns the new one."""
    handle = explorer.locator(".medai-figure").element_handle()
    page.wait_for_function(
        "([fig, before]) => { const img = fig.querySelector('img'); return img && img.src !== before; }",
        arg=[handle, before],
        timeout=timeout * 1000,
    )
    return image_source(explorer)


def images_without_alt(page: Page, scope: str) -> int:
    return page.evaluate(f"""Array.from(document.querySelectorAll('{scope} img'))
        .filter(img => !(img.getAttribute('alt') || '').trim()).length""")


def screenshot(page: Page, path: Path, full: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full)
    return path


# --- what a course page must show ---------------------------------------------------------------------


def wait_for_explorers(page: Page, scope: str, expected: int, timeout: float = 60) -> None:
    """Until ``expected`` explorers show their figure (widgets render a moment after their cell ran)."""
    try:
        page.wait_for_function(
            f"document.querySelectorAll('{scope} .medai-explorer .medai-figure img').length >= {expected}",
            timeout=timeout * 1000,
        )
    except Exception:
        shown = explorers(page, scope).count()
        raise AssertionError(
            f"{shown} of {expected} explorers on screen after {timeout:.0f} s; "
            f"widget problems: {widget_problems(page, scope)}"
        ) from None
    page.wait_for_timeout(1000)


def change_each_explorer(page: Page, scope: str) -> list[dict]:
    """One change per explorer; each must bring a new image. Returns what changed and how fast it was painted."""
    changes = []
    found = explorers(page, scope)
    for index in range(found.count()):
        explorer = found.nth(index)
        explorer.scroll_into_view_if_needed()
        before = image_source(explorer)
        kind = change_control(page, explorer)
        assert wait_new_image(page, explorer, before) != before
        changes.append({"explorer": index, "control": kind})
    page.wait_for_timeout(500)  # the recorder notes the paint on the next frames
    paints = page.evaluate("window.medaiRecorder.paints")
    for change in changes:
        latest = [p for p in paints if p["index"] == change["explorer"]][-1]
        change["input_to_paint_ms"] = round(latest["painted"] - latest["input"]) if latest["input"] else None
    return changes


def screenshots(page: Page, folder: Path, name: str, scope: str) -> list[str]:
    """The viewport as ``<name>.png`` and each explorer of ``scope`` as ``<name>-explorer<i>.png``."""
    shots = [str(screenshot(page, folder / f"{name}.png", full=False))]
    found = explorers(page, scope)
    for index in range(found.count()):
        path = folder / f"{name}-explorer{index}.png"
        found.nth(index).screenshot(path=str(path))
        shots.append(str(path))
    return shots


def record(folder: Path, name: str, entry: dict) -> Path:
    """Add ``entry`` to ``<folder>/<name>.json`` (a report that several tests fill, one key each)."""
    path = folder / f"{name}.json"
    folder.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(entry)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


# What a projected page shows, measured in the page: text sizes, control sizes, figure placement.
_PRESENTATION = """scope => {
  const root = document.querySelector(scope);
  const visible = e => e.offsetParent !== null && e.getClientRects().length > 0;
  const px = e => parseFloat(getComputedStyle(e).fontSize);
  const text = Array.from(root.querySelectorAll('.jp-RenderedMarkdown p, .jp-RenderedMarkdown li'))
    .filter(visible);
  const controls = Array.from(root.querySelectorAll(
    '.medai-explorer .widget-label, .medai-explorer .widget-readout, .medai-explorer select, .medai-explorer button'))
    .filter(visible).filter(e => e.textContent.trim());
  const canvas = document.createElement('canvas').getContext('2d');
  const textWidth = (e, s) => { const c = getComputedStyle(e); canvas.font = `${c.fontSize} ${c.fontFamily}`;
                                return canvas.measureText(s).width; };
  const cut = [];
  for (const e of controls) {
    if (e.tagName === 'SELECT') {
      const longest = Math.max(...Array.from(e.options).map(o => textWidth(e, o.textContent)));
      if (longest + 28 > e.clientWidth) cut.push(`dropdown '${e.options[e.selectedIndex]?.textContent}' (${Math.round(longest)} px of text in ${e.clientWidth} px)`);
    } else if (e.scrollWidth > e.clientWidth + 1) cut.push(`'${e.textContent.trim()}' (${e.scrollWidth} px in ${e.clientWidth} px)`);
  }
  const column = (root.firstElementChild || root).getBoundingClientRect();  // the content column
  const figures = Array.from(root.querySelectorAll('.jp-OutputArea-output img')).filter(visible).map(img => {
    const box = img.getBoundingClientRect();
    const scale = Math.min(box.width / img.naturalWidth, box.height / img.naturalHeight);
    const w = img.naturalWidth * scale, h = img.naturalHeight * scale;  // drawn size (object-fit: contain)
    const left = box.left + (box.width - w) / 2 - column.left, right = column.right - (box.left + (box.width + w) / 2);
    return {width: Math.round(w), height: Math.round(h), off_centre: Math.round(Math.abs(left - right) / 2),
            width_share: +(w / column.width).toFixed(2), height_share: +(h / window.innerHeight).toFixed(2)};
  });
  return {
    viewport: [window.innerWidth, window.innerHeight],
    text_px: text.length ? Math.min(...text.map(px)) : null,
    control_text_px: controls.length ? Math.min(...controls.map(px)) : null,
    slider_tracks_px: Array.from(root.querySelectorAll('.medai-explorer .noUi-target')).filter(visible)
      .map(e => Math.round(e.getBoundingClientRect().width)),
    cut_off: cut,
    figures,
  };
}"""


def presentation(page: Page, scope: str) -> dict:
    """How ``scope`` presents on this viewport: the smallest text and control text (px), each slider's
    track width, labels and dropdowns whose text is cut off, and each figure's drawn size and placement
    (``off_centre``: px from the column's centre; ``width_share`` of the column, ``height_share`` of the window)."""
    return page.evaluate(_PRESENTATION, scope)
