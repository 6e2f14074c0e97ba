"""``medai-demo``, the demos' Voilà template: Voilà's lab template, offline, sized for a projector.

Made from Voilà's own lab template at every start (so it follows the installed Voilà), with:
nothing loaded from the internet (the icon fonts came from a CDN), the page's content a keyboard-
reachable landmark, the course's favicon and projector style sheet (``template/demo.css``), a
link back to the list of lessons, and the list itself (``template/tree.html``: each lesson's
title and clinical question, opened in the same tab).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

TEMPLATE = "medai-demo"
OURS = Path(__file__).with_name("template")  # demo.css, favicon.svg, tree.html
CDN = re.compile(r'(href|src)="https?://')
# Lesson pages: the course's favicon, style sheet and a way back to the list (only where there is one).
HEAD = """<link rel="icon" type="image/svg+xml" href="{{ resources.include_url('static/favicon.svg') }}">
{{ resources.include_css('static/demo.css') }}"""
BACK = """<nav class="medai-demo-nav" aria-label="Demo" hidden><a href="{{ resources.base_url }}">All lessons</a></nav>
<script>if (location.pathname.includes('/voila/render/')) document.querySelector('.medai-demo-nav').hidden = false;</script>"""


def install_template() -> Path:
    """Make the template in this environment's Voilà templates (see the module's docstring); returns its folder."""
    templates = Path(sys.prefix) / "share" / "jupyter" / "voila" / "templates"
    lab, base, ours = templates / "lab", templates / "base", templates / TEMPLATE
    if not lab.exists():
        raise FileNotFoundError(
            f"Voilà's lab template is not at {lab}: install voila into this environment (make install)."
        )
    if ours.exists():
        shutil.rmtree(ours)
    shutil.copytree(lab, ours)
    for page in base.glob("*.htm*"):  # base pages that load from the internet are replaced too
        if CDN.search(page.read_text()):
            shutil.copy(page, ours / f"base-{page.name}")
    pages = [p for p in ours.iterdir() if p.suffix in (".j2", ".html")]
    for page in pages:  # ... and the lab pages that extend them extend our copies, without the CDN links
        text = re.sub(
            r"voila/templates/base/([\w.-]+)",
            lambda m: (
                f"voila/templates/{TEMPLATE}/base-{m.group(1)}"
                if (ours / f"base-{m.group(1)}").exists()
                else m.group(0)
            ),
            page.read_text(),
        )
        page.write_text(re.sub(r"^[ \t]*<link[^>]+href=\"https?://[^\"]+\"[^>]*>[ \t]*\n?", "", text, flags=re.M))
    index = ours / "index.html.j2"
    text = _replace_once(index.read_text(), '<link rel="icon" href="data:;base64,=">', HEAD)
    text = _replace_once(  # the page's scrolling content: a landmark, reachable by keyboard, with the way back on top
        text,
        '<div id="rendered_cells" style="display: none">\n  <div>',
        '<div id="rendered_cells" role="main" aria-label="Lesson demo" tabindex="0" style="display: none">\n  <div>\n'
        + BACK,
    )
    index.write_text(text)
    (ours / "static").mkdir(exist_ok=True)
    for name in ("demo.css", "favicon.svg"):
        shutil.copy(OURS / name, ours / "static" / name)
    shutil.copy(OURS / "tree.html", ours / "tree.html")
    (ours / "conf.json").write_text(json.dumps({"base_template": "lab"}) + "\n")
    left = [p.name for p in ours.iterdir() if p.is_file() and CDN.search(p.read_text(errors="ignore"))]
    if left:
        raise RuntimeError(f"the demo template would still load files from the internet: {left}")
    return ours


def _replace_once(text: str, old: str, new: str) -> str:
    if old not in text:
        raise RuntimeError(f"Voilà's lab template changed: {old!r} is not in it (medai_edu_ops.demo.template)")
    return text.replace(old, new, 1)
