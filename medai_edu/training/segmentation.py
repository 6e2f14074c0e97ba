"""Training the lesson-3 segmenters on multi-rater data (design §3.5).

Every step draws a batch of 12 images, picks **one random rater's mask per image**, applies the
same random flips, rotation (±15°) and scaling (0.9-1.1) to image and mask, and takes an Adam
step on ``model.loss``: lr 1e-3 (the original's), decayed linearly to 0 over the second half of
the run so that the last weights settle. The randomness of step ``t`` (rater choice, augmentation,
latent noise) depends only on ``(seed, t)`` and the batch order is part of the checkpoint, so on
the CPU a resumed run ends with exactly the weights of an uninterrupted one. On CUDA some kernels
add in a varying order, so any two runs differ in the last bits (about 1e-7 after 6 steps on an
H200), resumed or not.

Single checkpoints of these small networks fluctuate from one check to the next (Adam at
lr 1e-3 with batch norm), so we keep an exponential moving average of the weights
(``ema=0.99``, batch-norm statistics included) and score that on validation images every
``val_every`` steps (GED², S_NCC, Dice); the averaged weights with the lowest validation GED²
are returned (as the original kept its best-GED checkpoint).
For the deterministic U-Net, whose samples are all the same, the lowest GED² is the answer
closest on average (1 - IoU) to the raters.

The deterministic U-Net is trained like the others on all raters (one random rater per image
per batch; the design allows rater 0 only, as in the original, or all raters). It then learns
the raters' consensus, which makes the comparison of its Dice with the probabilistic models'
fair; ``unet_raters="first"`` gives the original's rater-0 training instead.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from medai_edu.device import get_device, seed_everything
from medai_edu.metrics import dice_of_mean, ged_squared, sncc
from medai_edu.models.segmentation import MODELS, SegmentationModel, build_segmenter
from medai_edu.training.common import (
    RandomBatches,
    batched,
    plain_config,
    resume_state,
    save_and_score,
    save_checkpoint,
)
from medai_edu.validation import Interval, Options, check_option, check_scalar

__all__ = [
    "SegmenterConfig",
    "augment",
    "evaluate_segmenter",
    "train_and_save_segmenter",
    "train_segmenter",
    "weights_name",
]


@dataclass
class SegmenterConfig:
    """Everything that defines a segmentation training run (stored in checkpoints and the manifest)."""

    model: str = "phiseg_l5"  # 'unet', 'prob_unet', 'phiseg_l1' or 'phiseg_l5'
    steps: int = 6000
    batch_size: int = 12
    lr: float = 1e-3
    lr_decay_from: float = 0.5  # fraction of the steps after which the lr falls linearly to 0 (1 = constant)
    flips: bool = True  # random left-right and up-down flips
    rotate_degrees: float = 15.0  # rotations drawn uniformly from +-this
    scale: tuple[float, float] = (0.9, 1.1)  # zoom factors drawn uniformly from this range
    unet_raters: str = "all"  # deterministic U-Net: "all" (random rater per image) or "first" (rater 0)
    val_every: int = 250  # steps between validation checks (and chances to keep the best weights)
    n_val: int = 64  # validation images per check
    val_samples: int = 16  # samples per validation image
    checkpoint_every: int = 100
    ema: float = 0.99  # decay of the weights' moving average (0 = off: use the raw weights)
    seed: int = 42
    model_overrides: dict[str, Any] = field(default_factory=dict)  # constructor arguments, e.g. {"n0": 4}

    def __post_init__(self) -> None:
        check_option(self.model, "model", Options(MODELS))
        raters = {"all": "a random rater per image", "first": "rater 0, as in the original"}
        check_option(self.unet_raters, "unet_raters", Options(raters, raters))
        check_scalar(self.ema, "ema", Interval(0, 1, closed="left"), note="0 = off, e.g. 0.99")
        check_scalar(self.lr_decay_from, "lr_decay_from", Interval(0, 1), note="a fraction of the steps")

    def lr_at(self, step: int) -> float:
        """Learning rate of step ``step`` (0-based): constant, then linearly down to 0 at the last step."""
        start = self.lr_decay_from * self.steps
        if step < start:
            return self.lr
        return self.lr * max(0.0, (self.steps - step) / max(1.0, self.steps - start))


def weights_name(model: str) -> str:
    """Name of a model's shipped weights, e.g. 'multirater_phiseg_l5'."""
    return f"multirater_{model}"


def augment(images: torch.Tensor, masks: torch.Tensor, config: SegmenterConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Random flips, rotation and scaling, one draw per image, the same for its image and mask.

    ``images`` [B, C, H, W] are resampled bilinearly, ``masks`` [B, H, W] (class numbers) by
    nearest neighbour, both with ``torch.nn.functional.grid_sample``; pixels that come from
    outside the image copy the nearest border pixel. Uses torch's global random generator.
    """
    if images.ndim != 4:
        raise ValueError(f"augment works on 2D images [B, C, H, W], got shape {tuple(images.shape)}.")
    batch = len(images)
    angle = (2 * torch.rand(batch) - 1) * math.radians(config.rotate_degrees)
    low, high = config.scale
    zoom = low + (high - low) * torch.rand(batch)
    flip = torch.where(torch.rand(batch, 2) < 0.5, -1.0, 1.0) if config.flips else torch.ones(batch, 2)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.zeros(batch, 2, 3)  # output pixel -> input pixel: rotation @ flips / zoom
    theta[:, 0, 0], theta[:, 0, 1] = cos * flip[:, 0], -sin * flip[:, 1]
    theta[:, 1, 0], theta[:, 1, 1] = sin * flip[:, 0], cos * flip[:, 1]
    grid = F.affine_grid(theta.to(images), list(images.shape), align_corners=False)
    images = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
    masks = F.grid_sample(
        masks[:, None].to(images.dtype), grid, mode="nearest", padding_mode="border", align_corners=False
    )
    return images, masks[:, 0].round().long()


def _default_splits() -> dict[str, Any]:
    from medai_edu.data.multirater import MultiRaterDataset

    return {split: MultiRaterDataset(split) for split in ("train", "val")}


def _check_dataset(dataset: Any, split: str) -> None:
    image, masks = dataset[0][:2]
    image, masks = torch.as_tensor(image), torch.as_tensor(masks)
    if image.ndim != 3 or masks.ndim != 3 or image.shape[1:] != masks.shape[1:] or masks.is_floating_point():
        raise ValueError(
            f"the {split!r} data set must give (image [1, H, W], rater masks [raters, H, W] of class numbers) per item, "
            f"got image {tuple(image.shape)} and masks {tuple(masks.shape)} ({masks.dtype})."
        )


@torch.no_grad()
def evaluate_segmenter(
    model: SegmentationModel,
    dataset: Any,
    n_samples: int = 16,
    limit: int | None = None,
    device: torch.device | None = None,
) -> dict[str, Any]:
    """GED², S_NCC and Dice of the mean (against every rater) with ``n_samples`` samples per image.

    ``dataset[i] = (image [1, H, W], rater masks [raters, H, W])``; the first ``limit`` images
    are used (all if None). Returns means and standard deviations over images.
    """
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    scores: dict[str, list[float]] = {"ged": [], "sncc": [], "dice": []}
    for images, masks, *_ in batched(dataset, 8, limit):
        probs = model.sample(images.to(device), n_samples).softmax(dim=2).cpu()
        for b in range(len(images)):
            scores["ged"].append(ged_squared(probs[:, b].argmax(1), masks[b], probs.shape[2]))
            scores["sncc"].append(sncc(probs[:, b], masks[b]))
            scores["dice"].append(dice_of_mean(probs[:, b], masks[b]))
    model.train(was_training)
    result: dict[str, Any] = {"n_images": len(scores["ged"]), "n_samples": n_samples}
    for key, values in scores.items():
        result[f"{key}_mean"], result[f"{key}_std"] = float(np.mean(values)), float(np.std(values))
    return result


def train_segmenter(
    config: SegmenterConfig | None = None,
    dataset: Mapping[str, Any] | None = None,
    out_dir: str | Path | None = None,
    device: torch.device | str | None = None,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
) -> tuple[SegmentationModel, dict[str, Any]]:
    """Train ``config.model`` on ``dataset["train"]``; return (model with the best validation GED², history).

    ``dataset`` maps "train" and "val" to data sets of ``(image [1, H, W], masks [raters, H, W])``
    (default: the lesson's :class:`~medai_edu.data.multirater.MultiRaterDataset`). With ``out_dir``,
    ``last.pt`` (all that is needed to resume) is written every ``checkpoint_every`` steps;
    ``resume=True`` continues from it (same settings; only ``steps`` may differ). ``stop_after``
    ends the call after that many steps (for tests of resuming).
    """
    config = config or SegmenterConfig()
    device = get_device(device)
    seed_everything(config.seed)
    splits = dataset if dataset is not None else _default_splits()
    for split in ("train", "val"):
        if split not in splits:
            raise KeyError(
                f"dataset must map 'train' and 'val' to data sets; {split!r} is missing (got {', '.join(splits)})."
            )
        _check_dataset(splits[split], split)
    model = build_segmenter(config.model, **config.model_overrides).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    averaged = (
        AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema), use_buffers=True) if config.ema else None
    )
    # the weights that are validated and returned
    shown = cast(SegmentationModel, averaged.module) if averaged is not None else model
    batches = RandomBatches(splits["train"], config.batch_size, config.seed)
    history: dict[str, Any] = {"step": [], "train_loss": [], "val": [], "seconds": 0.0}
    best: dict[str, Any] = {"step": None, "ged": math.inf, "weights": None}
    start_step, out = 0, Path(out_dir) if out_dir is not None else None
    if resume:  # only steps may change
        state = resume_state(out, plain_config(config), free=("steps",))
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        if averaged is not None:
            averaged.load_state_dict(state["averaged"])
        batches.load_state_dict(state["batches"])
        history, best, start_step = state["history"], state["best"], state["step"]

    one_rater = config.model == "unet" and config.unet_raters == "first"
    end_step = config.steps if stop_after is None else min(config.steps, start_step + stop_after)
    t0, running = time.time() - history["seconds"], []
    bar = tqdm(
        range(start_step, end_step), desc=config.model, initial=start_step, total=config.steps, disable=not progress
    )
    model.train()
    for step in bar:
        torch.manual_seed(config.seed * 1_000_003 + step)  # this step's randomness depends on (seed, step) only
        images, masks, *_ = next(batches)
        rater = (
            torch.zeros(len(masks), dtype=torch.long) if one_rater else torch.randint(0, masks.shape[1], (len(masks),))
        )
        x, s = augment(images.to(device), masks[torch.arange(len(masks)), rater].to(device), config)
        for group in optimiser.param_groups:
            group["lr"] = config.lr_at(step)
        loss = model.loss(x, s)["loss"]
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        if averaged is not None:
            averaged.update_parameters(model)
        running.append(loss.item())
        done = step + 1
        if done % config.val_every == 0 or done == config.steps:
            scores = evaluate_segmenter(shown, splits["val"], config.val_samples, config.n_val, device)
            history["step"].append(done)
            history["train_loss"].append(float(np.mean(running)))
            history["val"].append(scores)
            running = []
            bar.set_postfix(
                loss=f"{history['train_loss'][-1]:.1f}",
                ged=f"{scores['ged_mean']:.3f}",
                dice=f"{scores['dice_mean']:.3f}",
            )
            if scores["ged_mean"] < best["ged"]:
                best = {"step": done, "ged": scores["ged_mean"], "weights": copy.deepcopy(shown.state_dict())}
        history["seconds"] = time.time() - t0
        if out is not None and (done % config.checkpoint_every == 0 or done == end_step):
            save_checkpoint(
                out / "last.pt",
                dict(
                    config=plain_config(config),
                    step=done,
                    model=model.state_dict(),
                    optimiser=optimiser.state_dict(),
                    averaged=averaged and averaged.state_dict(),
                    batches=batches.state_dict(),
                    history=history,
                    best=best,
                ),
            )
    bar.close()
    if end_step == config.steps:
        model.load_state_dict(best["weights"] if best["weights"] is not None else shown.state_dict())
    history["best_step"], history["best_val_ged"] = best["step"], best["ged"]
    return model.eval(), history


def train_and_save_segmenter(
    model: str,
    out: str | None = None,
    seed: int = 42,
    steps: int | None = None,
    device: str | None = None,
    command: str | None = None,
    progress: bool = True,
    dataset: Mapping[str, Any] | None = None,
    run_dir: str | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Train ``model``, score it on the validation split and save ``multirater_{model}`` + manifest.

    ``out`` defaults to the package's pretrained folder; checkpoints go to ``run_dir`` (default
    ``runs/multirater_{model}_seed{seed}``). Returns the manifest that was written.
    """
    config = SegmenterConfig(model=model, seed=seed)
    if steps is not None:
        config.steps = int(steps)
    splits = dataset if dataset is not None else _default_splits()
    run_dir = run_dir or f"runs/multirater_{model}_seed{seed}"
    trained, history = train_segmenter(config, splits, out_dir=run_dir, device=device, resume=resume, progress=progress)
    curves = {key: [v[f"{key}_mean"] for v in history["val"]] for key in ("ged", "sncc", "dice")}

    def score(reloaded: SegmentationModel) -> dict[str, Any]:
        return {
            **evaluate_segmenter(reloaded, splits["val"], config.val_samples),
            "split": "val (its first n_val images also chose the checkpoint)",
            "selected_step": history["best_step"],
            "parameters": sum(p.numel() for p in reloaded.parameters()),
            "history": {
                "step": history["step"],
                "train_loss": history["train_loss"],
                **{f"val_{k}": v for k, v in curves.items()},
            },
        }

    return save_and_score(  # float16 halves the files (PHiSeg L=5: 4.9 instead of 9.8 MB)
        trained,
        weights_name(model),
        score=score,
        training=config,
        seconds=history["seconds"],
        seed=seed,
        command=command or f"medai-edu train segmenter --net {model}",
        out=out,
        half=True,
    )
