"""`make lab` serves the course headless: JupyterLab answers and lists the course kernel."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest
from conftest import ROOT

TOKEN = "medai-edu-test-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_make_lab_headless_serves_course(tmp_path):
    port = _free_port()
    log = (tmp_path / "lab.log").open("w")
    lab = subprocess.Popen(
        ["make", "lab", "HEADLESS=1", f"PORT={port}", f"TOKEN={TOKEN}"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status = _get(f"{base}/api/status")
                break
            except OSError:
                assert lab.poll() is None, (tmp_path / "lab.log").read_text()
                assert time.monotonic() < deadline, "JupyterLab did not answer within 90 s"
                time.sleep(0.5)
        assert "started" in status
        kernels = _get(f"{base}/api/kernelspecs")["kernelspecs"]
        assert "medai-edu" in kernels, f"course kernel not listed: {sorted(kernels)}"
        contents = _get(f"{base}/api/contents")["content"]
        assert "00_welcome" in {item["name"] for item in contents}, "the lab should open on course/"
        with pytest.raises(urllib.error.HTTPError):  # the token is really required
            urllib.request.urlopen(f"{base}/api/contents", timeout=5)
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
        log.close()
