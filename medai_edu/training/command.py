"""Retrain a course model from a terminal: ``python -m medai_edu.training classifier --out my_classifier``.

Students' environments hold this library alone; the course operations' ``medai-edu train`` is the same
command (it adds :func:`add_arguments` to its parser and calls :func:`run`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_arguments", "main", "parser", "run"]


def run(args: argparse.Namespace) -> int:
    """Train the model ``args.model`` names, save its weights and manifest; 2 if it would replace the shipped ones."""
    if error := _refuse_shipped_folder(args):
        print(error, file=sys.stderr)
        return 2
    command = _train_command(args)
    if args.model == "segmenter":
        from medai_edu.training.segmentation import train_and_save_segmenter

        manifest = train_and_save_segmenter(
            args.net,
            out=args.out,
            seed=args.seed,
            steps=args.steps,
            device=args.device,
            command=command,
            resume=bool(args.resume),
        )
        print(json.dumps(manifest, indent=2))
        return 0
    common: dict[str, Any] = dict(
        data=args.data,
        out=args.out,
        seed=args.seed,
        steps=args.steps,
        size=args.size,
        device=args.device,
        command=command,
    )
    if args.model == "classifier":
        from medai_edu.training.classifier import train_and_save_classifier as train
    else:
        from medai_edu.training.vagan import train_and_save_vagan as train
    print(json.dumps(train(**common, **_vagan_options(args)), indent=2))
    return 0


def _refuse_shipped_folder(args: argparse.Namespace) -> str | None:
    """Why this run must not start (it would replace the course's shipped weights unasked), or None."""
    from medai_edu.pretrained import PRETRAINED_DIR

    into_shipped = args.out is None or Path(args.out).resolve() == PRETRAINED_DIR
    if into_shipped and not args.replace_shipped:
        return (
            f"{args.train_prog}: give a folder for the new weights with --out (for example --out runs/my_model). "
            f"Without it the run would replace the weights the course ships in {PRETRAINED_DIR}; "
            "to do that on purpose, add --replace-shipped."
        )
    return None


def _train_command(args: argparse.Namespace) -> str:
    """The command line that reproduces this run (recorded in the manifest)."""
    words = [*args.train_prog.split(), args.model] + (
        ["--net", args.net] if args.model == "segmenter" else ["--data", args.data]
    )
    words += ["--seed", str(args.seed)]
    for name in ("preset", "select", "steps", "size", "out") + VAGAN_SETTINGS:
        value = getattr(args, name, None)
        if value is not None:
            words += ["--" + name.replace("_", "-"), *map(str, value if isinstance(value, list) else [value])]
    return " ".join(words + (["--replace-shipped"] if args.replace_shipped else []))


#: VA-GAN settings the train command can set (each a VAGANConfig field of the same name)
VAGAN_SETTINGS = (
    "batch_size",
    "lr",
    "critic_steps",
    "warmup_critic_steps",
    "lr_decay_start",
    "l1_weight",
    "gen_widths",
)


def _vagan_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.model != "vagan":
        return {}
    names = ("preset", "select", "resume") + VAGAN_SETTINGS
    options = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if "gen_widths" in options:
        options["gen_widths"] = tuple(options["gen_widths"])
    return options


def add_arguments(train: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The command's arguments, on ``train`` (this module's parser, or `medai-edu train`'s)."""
    train.add_argument("model", choices=["classifier", "vagan", "segmenter"], help="which model to train")
    train.add_argument(
        "--net",
        choices=["unet", "prob_unet", "phiseg_l1", "phiseg_l5"],
        default="phiseg_l5",
        help="segmenter: which lesson-3 network (multi-rater lesion data)",
    )
    train.add_argument(
        "--data",
        choices=["toy", "brain"],
        default="toy",
        help="data set: toy boxes (lesson 1) or simulated brains (lesson 2)",
    )
    train.add_argument("--seed", type=int, default=42, help="seed for initialisation and batch order")
    train.add_argument("--steps", type=int, default=None, help="training steps (generator steps for vagan)")
    train.add_argument("--size", type=int, default=None, help="toy image size: 112 (design, default) or 56")
    train.add_argument(
        "--out", default=None, help="folder for the new weights and manifest (required unless --replace-shipped)"
    )
    train.add_argument(
        "--replace-shipped",
        action="store_true",
        help="write into the course's shipped pretrained folder, replacing its weights",
    )
    train.add_argument("--device", default=None, help="cuda, mps or cpu (default: best available)")
    train.add_argument(
        "--preset",
        choices=["design", "cpu", "quick", "brain"],
        default=None,
        help="vagan: settings preset (design = as published, shipped toy weights with --select ncc; cpu = shorter; quick; brain = shipped brain weights)",
    )
    train.add_argument(
        "--select",
        choices=["wasserstein", "ncc", "last"],
        default=None,
        help="vagan: which checkpoint to keep: the lowest validation Wasserstein estimate (design), "
        "the highest validation NCC against the true masks (simulated data only), or the last",
    )
    train.add_argument("--batch-size", type=int, default=None, help="vagan: images per batch (default 32)")
    train.add_argument("--lr", type=float, default=None, help="vagan: Adam learning rate (default 1e-4)")
    train.add_argument("--critic-steps", type=int, default=None, help="vagan: critic steps per generator step (5)")
    train.add_argument("--warmup-critic-steps", type=int, default=None, help="vagan: critic steps in warm-up (100)")
    train.add_argument(
        "--lr-decay-start",
        type=int,
        default=None,
        help="vagan: generator step from which the learning rate decays linearly to 0 (default: constant)",
    )
    train.add_argument("--l1-weight", type=float, default=None, help="vagan: weight of mean|y - x| (default 100)")
    train.add_argument(
        "--gen-widths",
        type=int,
        nargs=4,
        default=None,
        metavar="W",
        help="vagan: map generator channels at its 4 levels (default 16 32 64 128)",
    )
    train.add_argument(
        "--resume",
        action="store_true",
        default=None,
        help="vagan, segmenter: continue from the last checkpoint (same settings)",
    )
    train.set_defaults(train_prog=train.prog)
    return train


def parser() -> argparse.ArgumentParser:
    return add_arguments(
        argparse.ArgumentParser(
            prog="python -m medai_edu.training", description="Train a course model and save its weights + manifest."
        )
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return run(args)
