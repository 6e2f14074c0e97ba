"""Shipped network weights: safetensors files plus a JSON manifest each, checked by sha256.

Each model ``NAME`` is two files in this folder: ``NAME.safetensors`` (tensors only, so loading
never runs code) and ``NAME.json`` (what the network is, how it was trained, what it scores,
and the file's sha256). A missing, truncated or altered file is refused with the command that
regenerates it.

    >>> from medai_edu import pretrained
    >>> model = pretrained.load_model("toy_classifier")      # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medai_edu.data.cache import sha256_of

__all__ = [
    "PRETRAINED_DIR",
    "WeightsError",
    "save_weights",
    "load_manifest",
    "update_metrics",
    "load_state_dict",
    "build_model",
    "load_model",
    "read_result",
]

PRETRAINED_DIR = Path(__file__).resolve().parent

#: How to regenerate each shipped model when its manifest is gone too.
RETRAIN_COMMANDS = {
    "toy_classifier": "medai-edu train classifier --data toy --replace-shipped",
    "toy_vagan": "medai-edu train vagan --data toy --preset design --select ncc --replace-shipped",
    "brain_classifier": "medai-edu train classifier --data brain --replace-shipped",
    "brain_vagan": "medai-edu train vagan --data brain --preset brain --replace-shipped",
    **{
        f"multirater_{net}": f"medai-edu train segmenter --net {net} --replace-shipped"
        for net in ("unet", "prob_unet", "phiseg_l1", "phiseg_l5")
    },
}


class WeightsError(RuntimeError):
    """A weights file or its manifest is missing, corrupted or does not match."""


def _paths(name: str, directory: str | Path | None) -> tuple[Path, Path]:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        raise ValueError(f"name must be a plain model name such as 'toy_classifier', got {name!r}.")
    d = Path(directory) if directory is not None else PRETRAINED_DIR
    return d / f"{name}.safetensors", d / f"{name}.json"


def _retrain_hint(name: str, manifest: dict[str, Any] | None) -> str:
    command = (manifest or {}).get("command") or RETRAIN_COMMANDS.get(
        name, f"medai-edu train ... (no recipe known for {name!r})"
    )
    return f"Regenerate it with:\n    {command}"


def save_weights(
    model: Any,
    name: str,
    *,
    kind: str,
    config: dict[str, Any],
    seed: int,
    command: str,
    metrics: dict[str, Any] | None = None,
    directory: str | Path | None = None,
    half: bool = False,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Save ``model``'s weights as ``NAME.safetensors`` and write ``NAME.json``; return the weights path.

    ``kind`` names the class that :func:`load_model` rebuilds (see :func:`build_model`),
    ``config`` its constructor arguments; ``half=True`` stores float tensors as float16.
    """
    import torch
    from safetensors.torch import save_file

    weights_path, manifest_path = _paths(name, directory)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for key, value in model.state_dict().items():
        value = value.detach().cpu().contiguous()
        tensors[key] = value.half() if half and value.is_floating_point() else value
    save_file(tensors, str(weights_path))
    weights_path.chmod(0o644)  # readable by everyone, like the rest of the package
    manifest = {
        "name": name,
        "kind": kind,
        "config": config,
        "seed": seed,
        "command": command,
        "metrics": metrics or {},
        "dtype": "float16" if half else "float32",
        "file": weights_path.name,
        "sha256": sha256_of(weights_path),
        "bytes": weights_path.stat().st_size,
        "torch_version": torch.__version__,
        **(extra or {}),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return weights_path


def load_manifest(name: str, directory: str | Path | None = None) -> dict[str, Any]:
    """The manifest (config, seed, command, metrics, sha256) of a saved model."""
    _, manifest_path = _paths(name, directory)
    if not manifest_path.is_file():
        raise WeightsError(f"No manifest for model {name!r} (looked for {manifest_path}). {_retrain_hint(name, None)}")
    try:
        return json.loads(manifest_path.read_text())
    except json.JSONDecodeError as err:
        raise WeightsError(
            f"The manifest {manifest_path} is not valid JSON ({err}). {_retrain_hint(name, None)}"
        ) from err


def update_metrics(name: str, metrics: dict[str, Any], directory: str | Path | None = None) -> dict[str, Any]:
    """Merge measured ``metrics`` into a model's manifest (the weights file is untouched)."""
    manifest = load_manifest(name, directory)
    manifest.setdefault("metrics", {}).update(metrics)
    _paths(name, directory)[1].write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def load_state_dict(name: str, directory: str | Path | None = None) -> dict[str, Any]:
    """Load a model's tensors (as float32) after checking the file's sha256 against the manifest."""
    from safetensors.torch import load_file

    weights_path, _ = _paths(name, directory)
    manifest = load_manifest(name, directory)
    if not weights_path.is_file():
        raise WeightsError(f"The weights file {weights_path} is missing. {_retrain_hint(name, manifest)}")
    actual = sha256_of(weights_path)
    if actual != manifest.get("sha256"):
        raise WeightsError(
            f"The weights file {weights_path} is corrupted or was changed: its sha256 is {actual}, "
            f"the manifest expects {manifest.get('sha256')}. {_retrain_hint(name, manifest)}"
        )
    tensors = load_file(str(weights_path))
    return {k: (v.float() if v.is_floating_point() else v) for k, v in tensors.items()}


def build_model(kind: str, config: dict[str, Any]) -> Any:
    """An untrained network of ``kind``, the name each model class carries (stored in weight manifests)."""
    from medai_edu.models.classifier import SonoNet
    from medai_edu.models.segmentation import SEGMENTERS
    from medai_edu.models.vagan import Critic, MapGenerator

    models: tuple[Any, ...] = (SonoNet, MapGenerator, Critic, *SEGMENTERS.values())
    classes = {cls.kind: cls for cls in models}
    if kind not in classes:
        raise ValueError(f"Unknown model kind {kind!r}; expected one of {', '.join(map(repr, classes))}.")
    return classes[kind](**config)


def load_model(name: str, directory: str | Path | None = None, device: Any = None) -> Any:
    """Rebuild a saved model from its manifest, load the verified weights, return it in eval mode."""
    manifest = load_manifest(name, directory)
    model = build_model(manifest["kind"], manifest["config"])
    try:
        model.load_state_dict(load_state_dict(name, directory))
    except RuntimeError as err:
        if isinstance(err, WeightsError):
            raise
        raise WeightsError(
            f"The weights of {name!r} do not fit its configuration ({err}). {_retrain_hint(name, manifest)}"
        ) from err
    if device is not None:
        model = model.to(device)
    return model.eval()


def read_result(path: Path, suite: str) -> dict[str, Any]:
    """A shipped benchmark result (JSON of `medai-edu bench SUITE --json PATH`); says how to remake a missing one."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; run `medai-edu bench {suite} --json {path}`.")
    return json.loads(path.read_text())
