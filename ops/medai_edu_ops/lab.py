"""The students' JupyterLab: the course without nbgrader's instructor tools.

nbgrader installs its tools for everyone: the Create Assignment sidebar, the Validate button, the
formgrader and the course list. A student's server gets the config folder
``jupyter-config/student`` first on ``JUPYTER_CONFIG_PATH``: it switches those lab plugins and
server extensions off (the Assignments tab, with which students fetch and submit, stays). `make lab`
starts JupyterLab this way (``make lab INSTRUCTOR=1`` without it), Binder's postBuild installs the
folder's files into its environment, and a hub gives each student's server :func:`student_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from medai_edu_ops.course import ROOT

STUDENT_CONFIG = ROOT / "jupyter-config" / "student"
#: nbgrader's instructor tools that a student's JupyterLab leaves out (lab plugins and server extensions)
INSTRUCTOR_PLUGINS = tuple(
    f"@jupyter/nbgrader:{name}" for name in ("formgrader", "course-list", "create-assignment", "validate-assignment")
)
INSTRUCTOR_EXTENSIONS = tuple(
    f"nbgrader.server_extensions.{name}" for name in ("formgrader", "course_list", "validate_assignment")
)


def student_config_dir() -> Path:
    """The config folder a student's Jupyter server reads first (see the module docstring)."""
    return STUDENT_CONFIG


def student_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) with the student config folder first on ``JUPYTER_CONFIG_PATH``."""
    env = dict(os.environ if env is None else env)
    paths = [str(STUDENT_CONFIG), *filter(None, env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep))]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env
