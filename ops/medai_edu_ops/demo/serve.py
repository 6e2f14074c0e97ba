"""Voilà for the demos: each page's kernel ends with the page, and a kernel whose page vanished is culled.

``python -m medai_edu_ops.demo TARGET [Voilà options]`` starts Voilà (0.5.13) with three changes:

- A demo page asks the server to end its kernel when it is left (closed, reloaded, navigated
  away), sending the ``_xsrf`` cookie back as its token. Voilà's notebook page never sets that
  cookie, so a page opened in a fresh browser (the single-lesson demo, a bookmarked lesson) sent
  an empty token, got "403 '_xsrf' argument missing from POST", and its kernel stayed. Here the
  page sets the cookie before its kernel starts (:func:`set_xsrf_cookie`).
- Kernels without a page (the browser crashed, the laptop slept, the page was left before it had
  loaded) are culled after :data:`CULL_IDLE_S` seconds idle; a kernel with its page open is kept.
- Kernels inherit ``TQDM_DISABLE=1``: no progress bars on the slides.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medai_edu_ops.demo.template import TEMPLATE

if TYPE_CHECKING:
    from nbformat import NotebookNode
    from tornado.web import RequestHandler

CULL_IDLE_S = 600  # an idle kernel without a connected page ends after 10 minutes
# JupyterLab extensions that only work inside JupyterLab (they fail to load in Voilà)
LAB_ONLY_EXTENSIONS = ("@jupyter/nbgrader", "@jupyter-notebook/lab-extension")


def voila_command(
    target: Path, port: int, ip: str = "127.0.0.1", open_browser: bool = False, cull_idle_s: int = CULL_IDLE_S
) -> list[str]:
    """The command that serves ``target`` (a demo notebook, or the folder of demos as a list)."""
    return [
        sys.executable,
        "-m",
        "medai_edu_ops.demo",
        str(target),
        f"--port={port}",
        f"--Voila.ip={ip}",
        f"--template={TEMPLATE}",
        "--VoilaConfiguration.progressive_rendering=True",  # each figure appears as soon as its cell ran
        "--VoilaConfiguration.classic_tree=True",  # the lesson list as a plain page (the JupyterLab-based
        # one fails to start its widget plugins without a kernel, and says so in the console)
        *(f"--VoilaConfiguration.extension_denylist={name}" for name in LAB_ONLY_EXTENSIONS),
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_s}",
        f"--MappingKernelManager.cull_interval={max(1, min(60, cull_idle_s // 2))}",
        *([] if open_browser else ["--no-browser"]),
    ]


def addresses(names: list[str], ip: str, port: int, single: bool) -> dict[str, str]:
    """What a lecturer opens: the lesson (one lesson is served at ``/``), or the list and each lesson."""
    base = f"http://{ip}:{port}/"
    if single:
        return {names[0]: base}
    return {"list of lessons": base, **{name: f"{base}voila/render/{name}.ipynb" for name in names}}


def set_xsrf_cookie(handler: RequestHandler, notebook: NotebookNode, cwd: str) -> NotebookNode:
    """Voilà's prelaunch hook: reading the handler's XSRF token sets the ``_xsrf`` cookie (tornado)."""
    handler.xsrf_token  # noqa: B018 (read for its side effect)
    return notebook


def add_lessons(page_config: dict, settings: dict, notebook_path: str = "", **_: Any) -> dict:
    """Voilà's page-config hook: the list page gets each demo's title and clinical question (its metadata)."""
    if not notebook_path.endswith(".ipynb"):
        folder = Path(settings["contents_manager"].root_dir) / notebook_path
        lessons = {}
        for path in sorted(folder.glob("*.ipynb")):
            metadata = json.loads(path.read_text()).get("metadata", {})
            lessons[path.name] = {"title": metadata.get("title"), **metadata.get("medai_edu", {})}
        page_config["medaiLessons"] = lessons
    return page_config


def main(argv: list[str] | None = None) -> None:
    from traitlets.config import Config
    from voila.app import Voila

    os.environ["TQDM_DISABLE"] = "1"  # the kernels inherit Voilà's environment
    config = Config()
    config.VoilaConfiguration.prelaunch_hook = set_xsrf_cookie
    config.VoilaConfiguration.page_config_hook = add_lessons
    Voila.launch_instance(argv, config=config)
