"""Small helpers shared by the training loops: seeded batches, batched inference, checkpoints."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch


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
