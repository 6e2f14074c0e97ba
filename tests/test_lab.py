"""`make lab` serves the course headless: JupyterLab answers, lists the course kernel, and shows a
student no nbgrader instructor tools (``make lab INSTRUCTOR=1`` keeps them; Binder's layout too)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT
from medai_edu_ops.lab import INSTRUCTOR_PLUGINS, STUDENT_CONFIG, student_env

TOKEN = "medai-edu-test-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _status(url: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _page_config(base: str) -> dict:
    request = urllib.request.Request(f"{base}/lab", headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        page = response.read().decode()
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.DOTALL)
    return json.loads(found.group(1))


@contextmanager
def _running(command: list[str], log: Path, env: dict | None = None):
    """A server started with ``command`` (its own process group), stopped afterwards; yields its base URL."""
    port = _free_port()
    command = [part.replace("{port}", str(port)) for part in command]
    out = log.open("w")
    server = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _get(f"{base}/api/status")
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "JupyterLab did not answer within 120 s"
                time.sleep(0.5)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        out.close()


def _make_lab(*extra: str) -> list[str]:
    return ["make", "lab", "HEADLESS=1", "PORT={port}", f"TOKEN={TOKEN}", *extra]


def _instructor_tools(base: str) -> dict[str, bool]:
    disabled = set(_page_config(base).get("disabledExtensions", []))
    return {
        "formgrader server extension": _status(f"{base}/formgrader") != 404,
        **{plugin: plugin not in disabled for plugin in INSTRUCTOR_PLUGINS},
    }


@pytest.mark.slow
def test_make_lab_headless_serves_course_without_instructor_tools(tmp_path):
    with _running(_make_lab(), tmp_path / "lab.log") as base:
        assert "started" in _get(f"{base}/api/status")
        kernels = _get(f"{base}/api/kernelspecs")["kernelspecs"]
        assert "medai-edu" in kernels, f"course kernel not listed: {sorted(kernels)}"
        contents = _get(f"{base}/api/contents")["content"]
        assert "00_welcome" in {item["name"] for item in contents}, "the lab should open on course/"
        with pytest.raises(urllib.error.HTTPError):  # the token is really required
            urllib.request.urlopen(f"{base}/api/contents", timeout=5)
        shown = [tool for tool, on in _instructor_tools(base).items() if on]
        assert not shown, f"a student's lab shows nbgrader's instructor tools: {shown}"
        assert "@jupyter/nbgrader:assignment-list" not in _page_config(base)["disabledExtensions"], (
            "students keep the Assignments tab (fetch and submit on a hub)"
        )


@pytest.mark.slow
def test_the_instructors_lab_keeps_the_tools(tmp_path):
    with _running(_make_lab("INSTRUCTOR=1"), tmp_path / "lab.log") as base:
        missing = [tool for tool, on in _instructor_tools(base).items() if not on]
        assert not missing, f"the instructor's lab lacks: {missing}"


@pytest.mark.slow
def test_binders_layout_and_the_hub_environment_hide_the_tools(tmp_path):
    """postBuild's files in a prefix-like folder (beside nbgrader's own, which switches its tools on), and
    :func:`medai_edu_ops.lab.student_env` as a hub would use it."""
    prefix = tmp_path / "etc" / "jupyter"
    (prefix / "jupyter_server_config.d").mkdir(parents=True)
    (prefix / "labconfig").mkdir()
    nbgrader_on = {"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": True}}}
    (prefix / "jupyter_server_config.d" / "nbgrader.json").write_text(json.dumps(nbgrader_on))
    postbuild = (ROOT / "binder" / "postBuild").read_text()
    for source, target in re.findall(
        r'install -m 644 (jupyter-config/student/\S+) "\$prefix/etc/jupyter/(\S+)"', postbuild
    ):
        shutil.copyfile(ROOT / source, prefix / target)
    lab = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", "--port={port}"]
    lab += [f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={ROOT / 'course'}"]
    lab += ["--allow-root"] if os.geteuid() == 0 else []
    binder = {**os.environ, "JUPYTER_CONFIG_PATH": str(prefix)}
    with _running(lab, tmp_path / "binder.log", env=binder) as base:
        shown = [tool for tool, on in _instructor_tools(base).items() if on]
        assert not shown, f"Binder's layout shows: {shown}"
    hub = student_env({**os.environ, "JUPYTER_CONFIG_PATH": str(tmp_path / "role")})
    assert hub["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(STUDENT_CONFIG), str(tmp_path / "role")]
    with _running(lab, tmp_path / "hub.log", env=hub) as base:
        shown = [tool for tool, on in _instructor_tools(base).items() if on]
        assert not shown, f"student_env() shows: {shown}"
