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

from medai_edu import results
from medai_edu.data import cache, prebuild

__all__ = ["build", "check", "main", "parser"]


def build(into: Path | None = None, progress: bool = True) -> Path:
    """Build the data and results in ``into`` (default: the user's cache), readable by all; returns the folder."""
    folder = prebuild.build_data(into, progress=progress)
    if not progress:
        os.environ["TQDM_DISABLE"] = "1"  # the lesson functions' own progress bars
    results.build()  # every lesson's demonstrations and explorer states, lecture and quick mode
    if into is not None:
        prebuild.share(folder)
        print(f"Done. Learners read it with {cache.SHARED_ENV_VAR}={folder}")
    return folder


def check(folder: Path | None = None) -> list[str]:
    """Recompute every stored result in ``folder`` (default: the user's cache) live; what differs or is stale."""
    return results.check(folder or cache.cache_dir())


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m medai_edu.shared_cache``."""
    parser = argparse.ArgumentParser(prog="python -m medai_edu.shared_cache", description=__doc__.splitlines()[0])
    parser.add_argument(
        "action", choices=["build", "check"], help="build the cache, or check it against live recomputation"
    )
    parser.add_argument("--into", type=Path, help="folder to fill (default: your own cache)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.action == "check":
        problems = check(args.into)
        print(
            "\n".join(problems)
            or f"Every stored result in {args.into or cache.cache_dir()} equals its live recomputation."
        )
        return 1 if problems else 0
    build(args.into, progress=not args.no_progress)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
