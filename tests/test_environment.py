"""The install recipes agree with each other, and the venv holds one CPU torch, no torchvision."""

from __future__ import annotations

import importlib.metadata
import re

import tomllib
import yaml
from conftest import ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_packages(path=ROOT / "pyproject.toml", extras: tuple[str, ...] = ()) -> set[str]:
    project = tomllib.loads(path.read_text())["project"]
    requirements = project["dependencies"] + [r for e in extras for r in project["optional-dependencies"][e]]
    return {_name(r) for r in requirements}


def _all_packages() -> set[str]:
    """The library's and the course operations' dependencies, extras included (the library itself apart)."""
    ops = _pyproject_packages(ROOT / "ops" / "pyproject.toml", ("hub", "test"))
    return (_pyproject_packages() | ops) - {"medai-edu"}


def _conda_packages(path) -> set[str]:
    names = set()
    for dep in yaml.safe_load(path.read_text())["dependencies"]:
        entries = dep["pip"] if isinstance(dep, dict) else [dep]
        names |= {_name(e) for e in entries if not e.startswith("-")}
    return names - {"python", "pip"}


def test_student_environments_are_the_library_and_jupyterlab():
    """Binder's and the local conda environment hold the library's dependencies and the front end, none of ops."""
    wanted = _pyproject_packages() | {"jupyterlab"}
    for path in (ROOT / "environment.yml", ROOT / "binder" / "environment.yml"):
        listed = _conda_packages(path)
        assert listed == wanted, (
            f"{path.relative_to(ROOT)} differs from pyproject.toml's dependencies and jupyterlab: "
            f"missing {sorted(wanted - listed)}, extra {sorted(listed - wanted)}"
        )


def test_binder_is_complete_on_its_own():
    binder = ROOT / "binder"
    assert (binder / "postBuild").stat().st_mode & 0o111, "binder/postBuild must be executable"
    post_build = (binder / "postBuild").read_text()
    assert "pip install" in post_build and "ipykernel install" in post_build
    assert "torch==2.13.0" in (binder / "environment.yml").read_text()


def test_one_pinned_torch_and_no_torchvision():
    assert importlib.metadata.version("torch").startswith("2.13.0")
    installed = {d.metadata["Name"].lower() for d in importlib.metadata.distributions()}
    assert "torchvision" not in installed
    assert not any(name.startswith("nvidia-") for name in installed), "a CUDA torch build crept in"


def test_makefile_installs_pinned_torch_before_the_package():
    makefile = (ROOT / "Makefile").read_text()
    assert "TORCH  := torch==2.13.0" in makefile
    assert makefile.index("install --quiet $(TORCH)") < makefile.index("install --quiet -c constraints.txt -e .")


def test_set_up_avoids_gnu_only_install_flags():
    """`install -D` exists only in GNU coreutils: `make lab` and Binder must also work on stock macOS."""
    for path in (ROOT / "Makefile", ROOT / "binder" / "postBuild"):
        assert not re.search(r"\binstall\s+(-\w+\s+)*-D\b", path.read_text()), f"{path.name} uses GNU-only `install -D`"


def test_set_up_installs_the_tested_versions():
    """constraints.txt pins every dependency (torch apart: the Makefile pins it) and make uses it."""
    makefile = (ROOT / "Makefile").read_text()
    assert "-c constraints.txt -e ." in makefile
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pinned[_name(name)] = version
    missing = _all_packages() - {"torch"} - set(pinned)
    assert not missing, f"constraints.txt does not pin {sorted(missing)}: run `make constraints`"
    assert "torch" not in pinned, "torch is pinned by the Makefile (its build tag differs between platforms)"
    for name in ("numpy", "monai", "nbgrader"):
        assert importlib.metadata.version(name) == pinned[name], f"the venv's {name} is not the constrained version"
