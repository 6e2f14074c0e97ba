#!/usr/bin/env python3
"""Rehearse Binder here: a fresh virtualenv built only from binder/, then every lesson in lecture
mode in 2 GB of memory and without network.

    python3 binder/rehearse.py --download WHEELS     # set-up: fetch binder's packages (network)
    python3 binder/rehearse.py --wheels WHEELS       # the rehearsal, offline

1. A new virtualenv gets exactly the packages binder/environment.yml lists (conda and pip
   sections, installed with pip from the wheels fetched at set-up, without network), then
   binder/postBuild runs in it, as Binder would.
2. Each instructor notebook runs top to bottom in lecture mode (QUICK = False) in that
   virtualenv's kernel, started through binder/start as Binder starts it (kernels read the cache
   postBuild built), inside a memory cgroup limited to 2 GB (cgroup v1 or v2) and a network
   namespace with only the loopback device (no route out). papermill, which drives the kernel, is
   this Python's (Binder has no papermill: a student's environment holds only the library and
   JupyterLab).

It needs root (cgroups, namespaces); otherwise it says so and exits with status 3.
What it proves and does not prove: see the README ("Binder rehearsal").
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEMORY_LIMIT = 2 * 1024**3
LESSONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
NOT_PIP = {"python", "pip"}


def binder_requirements(environment: Path) -> list[str]:
    """The packages of binder/environment.yml as pip requirements (pip options such as index URLs dropped)."""
    requirements, in_dependencies = [], False
    for line in environment.read_text().splitlines():
        if re.match(r"^dependencies:\s*$", line):
            in_dependencies = True
            continue
        if in_dependencies and re.match(r"^\S", line):
            break
        item = re.match(r"^\s*-\s+(.+?)\s*(#.*)?$", line)
        if not in_dependencies or not item or item.group(1).endswith(":") or item.group(1).startswith("-"):
            continue
        requirement = item.group(1)
        name = re.split(r"[<>=!~ ]", requirement, maxsplit=1)[0]
        if name not in NOT_PIP:
            requirements.append(requirement.replace("python=", "python=="))
    return requirements


def _pip(python: str, args: list[str], what: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([python, "-m", "pip", *args], capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"pip could not {what}:\n{done.stderr[-3000:]}")


def download(wheels: Path) -> None:
    """Set-up: fetch binder's packages and everything they need into ``wheels``."""
    requirements = binder_requirements(ROOT / "binder" / "environment.yml")
    _pip(sys.executable, ["download", "--quiet", "--dest", str(wheels), *requirements], "download binder's packages")
    print(f"{len(list(wheels.iterdir()))} files for binder's {len(requirements)} packages in {wheels}")


def build_venv(venv: Path, wheels: Path) -> Path:
    """The virtualenv with binder's packages (from ``wheels``, offline), after binder/postBuild; returns its bin folder."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    requirements = binder_requirements(ROOT / "binder" / "environment.yml")
    print(f"installing {len(requirements)} packages from binder/environment.yml, offline", flush=True)
    _pip(
        str(bin_dir / "python"),
        ["install", "--quiet", "--no-index", "--find-links", str(wheels), *requirements],
        f"install binder's packages from {wheels} (run `make test` or `--download` first)",
    )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    subprocess.run(["bash", str(ROOT / "binder" / "postBuild")], cwd=ROOT, env=env, check=True)
    return bin_dir


class MemoryCgroup:
    """A memory cgroup of ``limit`` bytes that the commands started through :meth:`command` join."""

    def __init__(self, limit: int) -> None:
        name = f"medai-binder-{os.getpid()}"
        v2, v1 = Path("/sys/fs/cgroup/cgroup.controllers"), Path("/sys/fs/cgroup/memory")
        if v2.exists():
            self.path, limit_file = Path("/sys/fs/cgroup") / name, "memory.max"
        elif v1.is_dir():
            self.path, limit_file = v1 / name, "memory.limit_in_bytes"
        else:
            raise RuntimeError("no memory cgroup controller on this machine")
        self.path.mkdir()
        (self.path / limit_file).write_text(str(limit))
        if int((self.path / limit_file).read_text()) > limit:
            raise RuntimeError(f"the memory limit did not take: {self.path / limit_file}")
        swap = self.path / ("memory.swap.max" if v2.exists() else "memory.memsw.limit_in_bytes")
        if swap.exists():
            try:
                swap.write_text("0" if v2.exists() else str(limit))  # no swapping past the limit
            except OSError:
                pass

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the cgroup and a fresh network namespace with loopback only."""
        script = 'echo $$ > "$1/cgroup.procs" && ip link set lo up && shift && exec "$@"'
        return ["unshare", "--net", "sh", "-c", script, "sh", str(self.path), *argv]

    def peak(self) -> int | None:
        for name in ("memory.peak", "memory.max_usage_in_bytes"):
            if (self.path / name).exists():
                return int((self.path / name).read_text())
        return None

    def remove(self) -> None:
        try:
            self.path.rmdir()
        except OSError:
            pass


def folder_megabytes(folder: Path) -> float:
    """The size of the files under ``folder`` (links not followed), in MB."""
    total = sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return round(total / 1e6, 1)


def run_lessons(bin_dir: Path, work: Path) -> list[dict]:
    results = []
    for notebook in LESSONS:
        cgroup = MemoryCgroup(MEMORY_LIMIT)
        out = work / f"{notebook.stem}.out.ipynb"
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "MPLBACKEND": "agg",
            "JUPYTER_PATH": str(bin_dir.parent / "share" / "jupyter"),  # the course kernel of Binder's environment
        }
        env.pop("PYTHONPATH", None)
        command = cgroup.command(
            [
                "bash",
                str(ROOT / "binder" / "start"),
                sys.executable,
                "-m",
                "papermill",
                str(notebook),
                str(out),
                "-k",
                "medai-edu",
                "-p",
                "QUICK",
                "False",
                "--cwd",
                str(notebook.parent),
                "--log-level",
                "WARNING",
            ]
        )
        start = time.monotonic()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        seconds = time.monotonic() - start
        peak = cgroup.peak()
        cgroup.remove()
        results.append(
            {
                "lesson": notebook.stem,
                "ok": done.returncode == 0,
                "seconds": round(seconds, 1),
                "peak_gb": None if peak is None else round(peak / 1024**3, 2),
                "error": done.stderr[-2000:] if done.returncode else "",
            }
        )
        print(
            f"{notebook.stem:<28} {'ok' if done.returncode == 0 else 'FAILED':<7} {seconds:6.1f} s  "
            f"peak {results[-1]['peak_gb']} GB (limit 2 GB, no network)",
            flush=True,
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--download", type=Path, metavar="WHEELS", help="only fetch binder's packages into WHEELS (set-up)"
    )
    parser.add_argument(
        "--wheels", type=Path, metavar="WHEELS", help="where --download put them (the rehearsal installs offline)"
    )
    parser.add_argument("--keep", type=Path, help="build the virtualenv here and keep it (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.download:
        download(args.download)
        return 0
    if not args.wheels:
        parser.error("give --wheels WHEELS (made by --download WHEELS)")
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        print("Binder rehearsal needs root, unshare and ip (cgroups and a network namespace): not run.")
        return 3
    with tempfile.TemporaryDirectory(prefix="medai-binder-") as tmp:
        venv = args.keep or Path(tmp) / "venv"
        start = time.monotonic()
        bin_dir = build_venv(venv, args.wheels)
        print(f"virtualenv from binder/ ready in {time.monotonic() - start:.0f} s", flush=True)
        cache = folder_megabytes(venv / "share" / "medai-edu" / "cache")
        packages = folder_megabytes(venv) - cache
        print(f"environment size: {packages:.0f} MB of packages, {cache:.0f} MB of shared cache", flush=True)
        results = run_lessons(bin_dir, Path(tmp))
    failed = [r for r in results if not r["ok"]]
    for result in failed:
        print(f"--- {result['lesson']} failed:\n{result['error']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
