"""Running a trained network over many images: in batches, on a chosen device, results on the CPU."""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = [
    "predict",
]


@torch.no_grad()
def predict(
    fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, device: torch.device, batch_size: int = 64
) -> torch.Tensor:
    """Apply ``fn`` to ``images`` in batches on ``device``; results come back on the CPU."""
    outs = [fn(images[i : i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(outs)
