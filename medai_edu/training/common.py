"""What every training run shares: seeded batches, batched inference, checkpoints, and saving the result."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from medai_edu.pretrained import load_model, save_weights, update_metrics

__all__ = [
    "RandomBatches",
    "Saveable",
    "batched",
    "load_checkpoint",
    "plain_config",
    "resume_state",
    "save_and_score",
    "save_checkpoint",
]


class RandomBatches:
    """Endless batches of ``dataset`` items in seeded random order (a new order each pass).

    The order of pass ``p`` depends only on ``(seed, p)``, so :meth:`state_dict` (pass and
    position) is all a checkpoint needs for a resumed run to draw exactly the same batches.
    """

    def __init__(self, dataset: Any, batch_size: int, seed: int) -> None:
        if not 1 <= batch_size <= len(dataset):
            raise ValueError(f"batch_size must be between 1 and the data set size ({len(dataset)}), got {batch_size}.")
        self.dataset, self.batch_size, self.seed = dataset, int(batch_size), int(seed)
        self.pass_index, self.position = 0, 0

    def _order(self) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.pass_index)
        return torch.randperm(len(self.dataset), generator=generator)

    def __iter__(self) -> RandomBatches:
        return self

    def __next__(self) -> tuple[torch.Tensor, ...]:
        if self.position + self.batch_size > len(self.dataset):
            self.pass_index, self.position = self.pass_index + 1, 0
        chosen = self._order()[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        items = [self.dataset[int(i)] for i in chosen]
        return tuple(torch.stack([torch.as_tensor(v) for v in column]) for column in zip(*items))

    def state_dict(self) -> dict[str, int]:
        return {"pass_index": self.pass_index, "position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.pass_index, self.position = int(state["pass_index"]), int(state["position"])


def batched(dataset: Any, batch_size: int = 64, limit: int | None = None) -> Iterator[tuple[torch.Tensor, ...]]:
    """The first ``limit`` items of ``dataset`` (all if None) in order, as stacked batches."""
    n = len(dataset) if limit is None else min(limit, len(dataset))
    for start in range(0, n, batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, n))]
        yield tuple(torch.stack([torch.as_tensor(v) for v in column]) for column in zip(*items))


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically (a half-written file never replaces a good checkpoint)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` without unpickling code."""
    return torch.load(Path(path), map_location="cpu", weights_only=True)


def plain_config(config: Any) -> dict[str, Any]:
    """A dataclass config as plain JSON types (tuples become lists), as stored in checkpoints and manifests."""
    return json.loads(json.dumps(asdict(config)))


def resume_state(out: Path | None, config: dict[str, Any], free: Iterable[str] = ()) -> dict[str, Any]:
    """The checkpoint ``out/last.pt`` to continue from, after checking it was made with ``config``
    (a :func:`plain_config`); the settings named in ``free`` may differ."""
    if out is None or not (out / "last.pt").is_file():
        raise FileNotFoundError(
            f"resume=True needs a checkpoint at {out and out / 'last.pt'}; none found. Start without resume."
        )
    state = load_checkpoint(out / "last.pt")
    ignored = dict.fromkeys(free)
    saved, wanted = dict(state["config"], **ignored), dict(config, **ignored)
    if saved != wanted:
        changed = sorted(k for k in wanted if saved.get(k) != wanted[k])
        raise ValueError(
            f"The checkpoint in {out} was made with a different configuration ({', '.join(changed)} differ)."
        )
    return state


class Saveable(Protocol):
    """A course network: its ``kind`` and constructor ``config`` rebuild it (:func:`medai_edu.pretrained.build_model`)."""

    kind: str
    config: dict[str, Any]

    def parameters(self) -> Iterator[nn.Parameter]: ...

    def state_dict(self) -> dict[str, Any]: ...


def save_and_score(
    model: Saveable,
    name: str,
    *,
    score: Callable[[Any], dict[str, Any]],
    training: Any,
    seconds: float,
    seed: int,
    command: str,
    out: str | Path | None = None,
    data: dict[str, Any] | None = None,
    half: bool = False,
) -> dict[str, Any]:
    """Save a trained model, reload it from the file and record the scores of the reloaded copy.

    The one train-save-reload path of every course model (classifier, VA-GAN, segmenters): the
    weights go to ``out/NAME.safetensors`` with the manifest ``NAME.json`` (sha256, the model's own
    ``kind`` and ``config`` to rebuild it, ``seed``, ``command``, the ``training`` config and
    ``data``), come back through :func:`medai_edu.pretrained.load_model` (sha256 checked), and
    ``score(reloaded)`` with ``train_seconds`` and ``device`` is merged into the manifest's
    metrics: every recorded number is one of the saved file. ``out=None`` is the package's
    pretrained folder; ``half`` stores float tensors as float16. Returns the manifest.
    """
    device = next(model.parameters()).device
    extra = {"training": plain_config(training), **({"data": data} if data is not None else {})}
    save_weights(
        model,
        name,
        kind=model.kind,
        config=model.config,
        seed=seed,
        command=command,
        directory=out,
        half=half,
        extra=extra,
    )
    reloaded = load_model(name, out, device=device)
    metrics = {**score(reloaded), "train_seconds": round(seconds, 1), "device": str(device)}
    return update_metrics(name, metrics, out)
