"""Nothing a student made reaches an instructor or a student as active content.

Before a graded notebook is written (so before nbgrader's autograde, the formgrader and the
feedback see it):

- the student's markdown and raw cells are rendered to HTML by nbconvert's own markdown renderer
  and cleaned with `nh3 <https://github.com/messense/nh3>`_ (Python bindings of the Rust ``ammonia``
  sanitiser: an allow-list of tags and attributes, no ``<script>``, ``<style>``, ``<iframe>``,
  ``<form>``, SVG or MathML, no event handlers, no ``javascript:`` or other scripted URLs). The
  result replaces the cell's text as one line of plain HTML, so no markdown is parsed again;
- attachments are kept only as PNG, JPEG or GIF images whose bytes are what they claim (embedded
  as ``data:`` images), others are dropped, each with a note;
- outputs come only from the grader's sandbox and judge, and only inert kinds survive: text
  streams, text results and errors, with every string capped;
- every string has its lone surrogates replaced, so it can be written as UTF-8.

The formgrader and feedback pages also forbid inline script (Content-Security-Policy, see
:mod:`.formgrader_csp` and the feedback template).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from medai_edu_ops.grading import plain

MARKDOWN_LIMIT = 100_000  # characters of one student markdown cell that are rendered
TEXT_LIMIT = 100_000  # characters of one output's text
ERROR_LIMIT = 2_000
MAX_OUTPUTS = 50
IMAGE_TYPES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
ATTACHMENT_BYTES = 1 << 20
ATTACHMENTS = 10
DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=]+\Z")
SAFE_LINK = re.compile(r"(https?:|mailto:|#)", re.IGNORECASE)


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    if attribute == "src":
        return value if element == "img" and DATA_IMAGE.match(value) else None
    if attribute == "href":
        return value if SAFE_LINK.match(value) else None
    return value


def html(fragment: str) -> str:
    """``fragment`` with everything active removed (see the module's docstring)."""
    import nh3

    return nh3.clean(
        plain.clean_text(fragment),
        url_schemes={"http", "https", "mailto", "data"},
        attribute_filter=_keep_attribute,
        strip_comments=True,
    )


def _image(mime: str, data: Any) -> bytes | None:
    if mime not in IMAGE_TYPES:
        return None
    if isinstance(data, list) and all(isinstance(part, str) for part in data):
        data = "".join(data)
    if not isinstance(data, str) or len(data) > ATTACHMENT_BYTES * 4 // 3 + 16:
        return None
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if raw.startswith(IMAGE_TYPES[mime]) and len(raw) <= ATTACHMENT_BYTES else None


def attachments(found: Any, notes: list[str]) -> dict[str, dict[str, str]]:
    """The attachments worth keeping: real PNG/JPEG/GIF images, small enough (each other one noted)."""
    kept: dict[str, dict[str, str]] = {}
    for name, bundle in found.items() if isinstance(found, dict) else []:
        label = plain.clean_text(str(name))[:60]
        images = {m: _image(m, d) for m, d in bundle.items()} if isinstance(bundle, dict) else {}
        good = {m: raw for m, raw in images.items() if raw is not None}
        if good and len(kept) < ATTACHMENTS:
            mime, raw = next(iter(good.items()))
            kept[str(name)] = {mime: base64.b64encode(raw).decode()}
        else:
            notes.append(f"attachment {label!r} dropped: not a PNG, JPEG or GIF image of at most 1 MB")
    return kept


class _Attachments(dict):
    """Attachments for the markdown renderer: a missing one renders as an empty image, never an error."""

    def __contains__(self, name: object) -> bool:
        return True

    def __missing__(self, name: str) -> dict[str, str]:
        return {"text/plain": ""}


def markdown(source: str, found_attachments: Any = None, notes: list[str] | None = None) -> str:
    """A student's markdown as one line of clean HTML (rendered as nbconvert would, then sanitised)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    notes = notes if notes is not None else []
    source = plain.clean_text(source)
    if len(source) > MARKDOWN_LIMIT:
        notes.append(f"a text cell of {len(source):,} characters was cut to {MARKDOWN_LIMIT:,}")
        source = source[:MARKDOWN_LIMIT]
    kept = _Attachments(attachments(found_attachments, notes))
    try:
        rendered = MarkdownWithMath(renderer=IPythonRenderer(escape=False, attachments=kept)).render(source)
    except Exception:  # noqa: BLE001 - whatever the renderer chokes on is shown as plain text
        from html import escape

        rendered = f"<pre>{escape(source)}</pre>"
    clean = html(rendered).replace("\r", "&#13;").replace("\n", "&#10;")
    return f'<div class="student-answer">{clean}</div>' if clean.strip() else ""


def _text(value: Any, limit: int) -> str:
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        value = "".join(value)
    if not isinstance(value, str):
        return ""
    value = plain.clean_text(value)
    return (
        value
        if len(value) <= limit
        else value[:limit] + f"\n... [{len(value) - limit:,} more characters cut by the grader]"
    )


def outputs(found: Any, execution_count: int) -> list[dict]:
    """Only inert outputs, every string capped: text streams, text results, errors."""
    kept: list[dict] = []
    for output in (found if isinstance(found, list) else [])[:MAX_OUTPUTS]:
        if not isinstance(output, dict):
            continue
        kind = output.get("output_type")
        if kind == "stream":
            name = "stderr" if output.get("name") == "stderr" else "stdout"
            kept.append({"output_type": "stream", "name": name, "text": _text(output.get("text"), TEXT_LIMIT)})
        elif kind in ("execute_result", "display_data"):
            data = found_data if isinstance(found_data := output.get("data"), dict) else {}
            result = {
                "output_type": kind,
                "metadata": {},
                "data": {"text/plain": _text(data.get("text/plain"), TEXT_LIMIT)},
            }
            if kind == "execute_result":
                result["execution_count"] = execution_count
            kept.append(result)
        elif kind == "error":
            trace = found_trace if isinstance(found_trace := output.get("traceback"), list) else []
            kept.append(
                {
                    "output_type": "error",
                    "ename": _text(output.get("ename"), ERROR_LIMIT)[:100] or "Error",
                    "evalue": _text(output.get("evalue"), ERROR_LIMIT),
                    "traceback": [_text(line, ERROR_LIMIT) for line in trace[:60]],
                }
            )
    return kept


def strings(value: Any) -> Any:
    """``value`` (a notebook, or any JSON data) with lone surrogates replaced in every string."""
    if isinstance(value, str):
        return plain.clean_text(value)
    if isinstance(value, list):
        return [strings(item) for item in value]
    if isinstance(value, dict):
        return type(value)((strings(k), strings(v)) for k, v in value.items())
    return value
