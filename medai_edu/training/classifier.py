"""Training the SonoNet-style classifier on the toy data (cross-entropy, Adam, early stopping)."""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from medai_edu.data import IMAGE_SIZES, get_dataset
from medai_edu.device import get_device, seed_everything
from medai_edu.models.classifier import SONONET_BLOCKS, SonoNet
from medai_edu.models.inference import predict
from medai_edu.training.common import RandomBatches, batched, save_and_score

__all__ = [
    "ClassifierConfig",
    "build_classifier",
    "classifier_scores",
    "evaluate_accuracy",
    "train_and_save_classifier",
    "train_classifier",
]


@dataclass
class ClassifierConfig:
    """Everything that defines a classifier training run (stored in the weights' manifest)."""

    data: str = "toy"  # "toy" boxes or the simulated "brain" cohort
    size: int = 112  # image size (toy: 112 = design, 56 = quick variant; brain: 80)
    k: int = 8  # channels of the first block
    blocks: tuple[int, ...] = SONONET_BLOCKS
    batch_size: int = 32
    lr: float = 1e-3
    max_steps: int = 3000
    eval_every: int = 100  # steps between validation-accuracy checks
    patience: int = 5  # stop after this many checks without a better validation accuracy
    stop_at_accuracy: float = 1.0  # ... or as soon as validation accuracy reaches this
    n_val: int | None = None  # validation images per check (None = the whole split)
    seed: int = 42  # network initialisation and batch order
    data_seed: int = 42  # which data set (images and split)

    def model_config(self) -> dict[str, Any]:
        return dict(spatial_dims=2, in_channels=1, num_classes=2, k=self.k, blocks=list(self.blocks))


def build_classifier(config: dict[str, Any]) -> SonoNet:
    """A fresh :class:`SonoNet` from a ``model_config()``-style dictionary."""
    return SonoNet(**config)


@torch.no_grad()
def evaluate_accuracy(
    model: nn.Module, dataset: Any, device: torch.device | None = None, limit: int | None = None
) -> float:
    """Fraction of correctly classified items (``dataset[i] = (image, label, ...)``)."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    correct = total = 0
    for images, labels, *_ in batched(dataset, 64, limit):
        correct += int((model(images.to(device)).argmax(1).cpu() == labels).sum())
        total += len(labels)
    model.train(was_training)
    return correct / total


def train_classifier(
    config: ClassifierConfig | None = None, device: torch.device | str | None = None, progress: bool = True
) -> tuple[SonoNet, dict[str, Any]]:
    """Train a classifier on the training split of ``config.data``; return (best model, history).

    Early stopping: validation accuracy is checked every ``eval_every`` steps; the weights of
    the best check are kept; training stops after ``patience`` checks without improvement,
    when ``stop_at_accuracy`` is reached, or after ``max_steps``.
    """
    config = config or ClassifierConfig()
    device = get_device(device)
    seed_everything(config.seed)
    train = get_dataset(config.data, "train", size=config.size, seed=config.data_seed)
    val = get_dataset(config.data, "val", size=config.size, seed=config.data_seed)
    model = build_classifier(config.model_config()).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    loss_fn = nn.CrossEntropyLoss()
    batches = RandomBatches(train, config.batch_size, config.seed)
    history: dict[str, Any] = {"step": [], "train_loss": [], "val_accuracy": []}
    best_acc, best_state, best_step, stale = -1.0, None, 0, 0
    start, running = time.time(), []
    bar = tqdm(range(1, config.max_steps + 1), desc="classifier", disable=not progress)
    for step in bar:
        images, labels, _ = next(batches)
        loss = loss_fn(model(images.to(device)), labels.to(device))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        running.append(loss.item())
        if step % config.eval_every and step != config.max_steps:
            continue
        acc = evaluate_accuracy(model, val, device, config.n_val)
        history["step"].append(step)
        history["train_loss"].append(sum(running) / len(running))
        history["val_accuracy"].append(acc)
        running = []
        bar.set_postfix(loss=f"{history['train_loss'][-1]:.4f}", val_acc=f"{acc:.4f}")
        if acc > best_acc:
            best_acc, best_state, best_step, stale = acc, copy.deepcopy(model.state_dict()), step, 0
        else:
            stale += 1
        if acc >= config.stop_at_accuracy or stale >= config.patience:
            break
    bar.close()
    if best_state is not None:  # None only when no step ran (max_steps=0)
        model.load_state_dict(best_state)
    model.eval()
    history.update(best_step=best_step, best_val_accuracy=best_acc, seconds=time.time() - start, config=asdict(config))
    return model, history


def train_and_save_classifier(
    data: str = "toy",
    out: str | None = None,
    seed: int = 42,
    steps: int | None = None,
    size: int | None = None,
    device: str | None = None,
    command: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train, measure test accuracy and save ``{data}_classifier`` weights + manifest to ``out``.

    ``out`` defaults to the package's pretrained folder (where :func:`load_model` looks).
    Returns the manifest that was written.
    """
    size = IMAGE_SIZES[data] if size is None else int(size)
    config = ClassifierConfig(data=data, size=size, seed=seed)
    if steps is not None:
        config.max_steps = int(steps)
    model, history = train_classifier(config, device=device, progress=progress)
    test = get_dataset(data, "test", size=size, seed=config.data_seed)
    return save_and_score(
        model,
        f"{data}_classifier",
        score=lambda reloaded: {
            "test_accuracy": evaluate_accuracy(reloaded, test),
            "n_test": len(test),
            "best_val_accuracy": history["best_val_accuracy"],
            "best_step": history["best_step"],
        },
        training=config,
        seconds=history["seconds"],
        seed=seed,
        command=command or f"medai-edu train classifier --data {data}",
        out=out,
        data={"dataset": data, "size": size, "data_seed": config.data_seed},
    )


def classifier_scores(classifier: torch.nn.Module, data: Any, device: torch.device) -> dict[str, Any]:
    """Accuracy and ROC AUC (probability of AD) on ``data`` (a :class:`~medai_edu.data.brain.BrainDataset`)."""
    from sklearn.metrics import roc_auc_score

    images = torch.from_numpy(data.field("images"))
    classifier.eval()
    p_ad = predict(lambda x: torch.softmax(classifier(x), 1)[:, 1], images, device).numpy()
    labels = data.labels
    return {
        "test_accuracy": float(((p_ad > 0.5) == labels).mean()),
        "test_auc": float(roc_auc_score(labels, p_ad)),
        "n_test": len(labels),
    }
