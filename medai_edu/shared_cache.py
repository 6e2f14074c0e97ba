"""Everything deterministic the lessons read, computed once ahead of a class: ``python -m medai_edu.shared_cache``.

It builds every lesson's data (:mod:`medai_edu.data.prebuild`), then every lesson's stored results
(demonstrations, explorer states: :mod:`medai_edu.results`), into the user's cache or into a folder
that every learner's kernel then reads with ``MEDAI_EDU_SHARED_CACHE``. Binder's postBuild and the
Kubernetes image run it with the library alone; ``medai-edu cache build|check`` runs the same.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = ["add_arguments", "build", "check", "main", "parser", "run"]


def build(into: Path | None = None, progress: bool = True) -> Path:
    """Build the data and results in ``into`` (default: the user's cache), readable by all; returns the folder."""
    from medai_edu import results
    from medai_edu.data import cache, prebuild

    folder = prebuild.build_data(into, progress=progress)
    if not progress:
        os.environ["TQDM_DISABLE"] = "1"  # the lesson functions' own progress bars
    built = results.build()  # every lesson's demonstrations and explorer states, lecture and quick mode
    if into is not None:  # a folder only builds fill: what today's lessons do not read goes
        stale = results.prune(folder, built)
        if stale:
            print(f"Removed {len(stale)} stored results made with other code, weights or settings.")
        prebuild.share(folder)
        print(f"Done. Learners read it with {cache.SHARED_ENV_VAR}={folder}")
    return folder


def check(folder: Path | None = None) -> list[str]:
    """Recompute every stored result in ``folder`` (default: the user's cache) live; what differs or is stale."""
    from medai_edu import results
    from medai_edu.data import cache

    return results.check(folder or cache.cache_dir())


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The command line's arguments (``python -m medai_edu.shared_cache`` and ``medai-edu cache`` share them)."""
    parser.add_argument(
        "action",
        choices=["build", "check"],
        help="build: generate (or verify) the data every lesson reads and store every lesson's demonstrations "
        "(results, explorer states); check: recompute every stored result live and compare (exit 1 if any differs "
        "or is stale)",
    )
    parser.add_argument(
        "--into",
        type=Path,
        metavar="DIR",
        help="folder to fill, made readable by everyone (default: your own cache); learners then read it "
        "with MEDAI_EDU_SHARED_CACHE=DIR",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m medai_edu.shared_cache``."""
    return add_arguments(
        argparse.ArgumentParser(prog="python -m medai_edu.shared_cache", description=__doc__.splitlines()[0])
    )


def run(args: argparse.Namespace) -> int:
    """Build or check as the parsed command line says; the exit status."""
    if args.action == "check":
        from medai_edu.data.cache import cache_dir

        folder = args.into or cache_dir()
        problems = check(folder)
        print("\n".join(problems) or f"Every stored result in {folder} equals its live recomputation.")
        return 1 if problems else 0
    build(args.into, progress=not args.no_progress)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
