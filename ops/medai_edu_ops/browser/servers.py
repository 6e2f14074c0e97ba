"""Start JupyterLab or Voilà on this machine's loopback address, and stop them again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # the server answers (even a 403 means it is up)
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"the server stopped at start-up:\n{log.read_text()[-3000:]}") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer from {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.3)


@contextmanager
def _serve(
    command: list[str], url: str, log: Path, cwd: Path, env: dict | None, timeout: float
) -> Iterator[subprocess.Popen]:
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        try:
            _wait_until_up(url, process, log, timeout)
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


@contextmanager
def jupyter_lab(
    root: Path,
    token: str,
    log: Path,
    timeout: float = 120,
    app: str = "jupyterlab",
    options: Sequence[str] = (),
    env: dict | None = None,
) -> Iterator[str]:
    """JupyterLab (or another Jupyter server ``app``, with ``options``) serving ``root`` on 127.0.0.1 with
    ``token``; yields its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        app,
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        *options,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    base = f"http://127.0.0.1:{port}"
    with _serve(command, f"{base}/api/status", log, root, env, timeout):
        yield base


@dataclass
class Server:
    """A server this harness started: its address, its process and its log."""

    base: str
    process: subprocess.Popen
    log: Path

    def kernels(self) -> set[int]:
        """The process ids of the kernels the server runs now (its descendants running ipykernel)."""
        import psutil

        found = set()
        for child in psutil.Process(self.process.pid).children(recursive=True):
            try:
                if "ipykernel_launcher" in child.cmdline():
                    found.add(child.pid)
            except psutil.NoSuchProcess:
                pass  # ended while we looked
        return found


@contextmanager
def voila(command: list[str], port: int, log: Path, cwd: Path, timeout: float = 120) -> Iterator[Server]:
    """Voilà started with ``command`` on ``port`` (:func:`medai_edu_ops.demo.voila_command`, or ``make demo``)."""
    base = f"http://127.0.0.1:{port}"
    with _serve(command, f"{base}/voila/static/favicon.ico", log, cwd, None, timeout) as process:
        yield Server(base, process, log)
