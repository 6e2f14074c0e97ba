"""The `medai-edu` command."""

from __future__ import annotations

import argparse
import sys


def _doctor(args: argparse.Namespace) -> int:
    from medai_edu.doctor import check_machine

    return 0 if check_machine(thorough=True) else 1


def _add_train(commands: argparse._SubParsersAction) -> None:
    from medai_edu.training import command

    train = commands.add_parser("train", help="train a course model and save its weights + manifest")
    command.add_arguments(train).set_defaults(run=command.run)


BENCHMARKS = ("toy", "brain", "uncertainty", "referral", "widgets", "notebooks", "grading", "browser", "hub")


def _bench(args: argparse.Namespace) -> int:
    import importlib
    import json
    from pathlib import Path

    suite = importlib.import_module(f"medai_edu_ops.benchmarks.{args.suite}")
    images = args.images or ("all" if args.suite in ("uncertainty", "referral") else "200")
    images = None if images == "all" else int(images)
    if args.suite == "brain":
        result = suite.run(n_images=images, ig_steps=args.ig_steps, device=args.device, weights=args.weights)
    elif args.suite == "toy":
        result = suite.run(n_images=images, ig_steps=args.ig_steps, device=args.device)
    elif args.suite == "grading":
        result = suite.run(students=args.students or 10, workers=args.workers)
    elif args.suite == "hub":
        result = suite.run(
            students=args.students or 20,
            lessons=args.lessons,
            timeout=args.timeout,
            servers_first=not args.cold_start,
            shared_cache=Path(args.shared_cache) if args.shared_cache else None,
        )
    elif args.suite == "uncertainty":
        result = suite.run(n_images=images, n_samples=args.samples, device=args.device)
    elif args.suite == "referral":
        result = suite.run(n_test=images)
    elif args.suite == "browser":
        result = suite.run(lessons=args.lessons, changes=args.changes, quick=args.quick)
    elif args.suite == "notebooks" and args.contention:
        result = suite.run_contention(modes=args.threads, lessons=args.lessons)
    else:
        result = suite.run()
    print(suite.table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"Wrote {args.json}")
    return 0


def _add_bench(commands: argparse._SubParsersAction) -> None:
    bench = commands.add_parser("bench", help="measure a lesson's methods or the widgets and print a table")
    bench.add_argument(
        "suite",
        choices=BENCHMARKS,
        help="toy / brain: attribution methods on the toy data / simulated AD cohort; uncertainty: the "
        "lesson-3 segmenters on multi-rater data; referral: lesson 4's reading study (team of model and "
        "reader, calibration, a new scanner); widgets: redraw times in Python; browser: input-to-paint "
        "times of every explorer control in JupyterLab (Chromium); notebooks: lecture-mode time and memory; "
        "grading: CPU and wall time of autograding correct submissions, per lesson; hub: a class arriving at once "
        "on the class JupyterHub (loopback, test accounts)",
    )
    bench.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    bench.add_argument(
        "--students",
        type=int,
        default=None,
        help="grading: submissions per lesson, 3 in 5 correct, 1 in 5 all wrong, 1 in 5 hostile (default 10); hub: students arriving at once (default 20)",
    )
    bench.add_argument("--timeout", type=float, default=900, help="hub: seconds the whole class may take (900)")
    bench.add_argument(
        "--cold-start",
        action="store_true",
        help="hub: the students ask for their servers when the lesson starts (default: servers started before)",
    )
    bench.add_argument(
        "--shared-cache",
        metavar="DIR",
        default=None,
        help="hub: the hub's shared cache, filled by `medai-edu cache build` and kept between runs (default: "
        "built anew in the hub's own folder)",
    )
    bench.add_argument("--workers", type=int, default=2, help="grading: submissions run at the same time (default 2)")
    bench.add_argument(
        "--images",
        default=None,
        help="toy/brain/uncertainty/referral: test images to evaluate, or 'all' (default: 200 diseased images for "
        "toy (of 1,000) and brain (of 300); all 300 for uncertainty, all 600 for referral)",
    )
    bench.add_argument(
        "--samples", type=int, default=100, help="uncertainty: samples per test image (the paper used 100)"
    )
    bench.add_argument(
        "--ig-steps", type=int, default=100, help="toy/brain: integrated-gradients steps (the original used 100)"
    )
    bench.add_argument("--device", default=None, help="cuda, mps or cpu (default: best available)")
    bench.add_argument(
        "--weights",
        default=None,
        metavar="DIR",
        help="brain: a folder with a candidate brain_vagan (from `medai-edu train vagan --out DIR`; default: the shipped one)",
    )
    bench.add_argument(
        "--lessons",
        nargs="*",
        default=None,
        help="browser, notebooks --contention: lessons to measure (default: all); hub: lessons the class runs "
        "(default: 00_welcome)",
    )
    bench.add_argument("--changes", type=int, default=15, help="browser: changes timed per control (default 15)")
    bench.add_argument(
        "--quick", action="store_true", help="browser: run the lessons in quick mode (default: lecture mode)"
    )
    bench.add_argument(
        "--contention",
        action="store_true",
        help="notebooks: each lesson quiet and next to one busy process (a spinning core), and the ratio",
    )
    bench.add_argument(
        "--threads",
        nargs="+",
        default=None,
        metavar="MODE",
        help="notebooks --contention: MEDAI_EDU_THREADS settings to compare, e.g. off auto (default: auto)",
    )
    bench.set_defaults(run=_bench)


def _demo(args: argparse.Namespace) -> int:
    import subprocess

    from medai_edu_ops import demo

    names = [demo.resolve(args.lesson)] if args.lesson else None
    paths = demo.write_demos(demo.DEMO_FOLDER, names)
    demo.install_template()
    target = paths[0] if args.lesson else demo.DEMO_FOLDER
    lines = [
        f"  {what}: {url}"
        for what, url in demo.addresses([p.stem for p in paths], args.ip, args.port, bool(args.lesson)).items()
    ]
    print(
        "Lecture demo, served on this machine:\n" + "\n".join(lines) + "\n"
        f"Each page's kernel ends when the page is closed or left; one without a page after "
        f"{demo.CULL_IDLE_S // 60} idle minutes. Ctrl+C stops the demo.",
        flush=True,
    )
    try:
        return subprocess.call(demo.voila_command(target, args.port, args.ip, open_browser=not args.no_browser))
    except KeyboardInterrupt:
        return 0


def _add_demo(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "demo", help="serve the lessons' figures and explorers without code (Voilà), for lectures"
    )
    run.add_argument(
        "lesson",
        nargs="?",
        default=None,
        help="one lesson, e.g. 01 or 01_saliency_vs_attribution (default: all, as a list)",
    )
    run.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    run.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    run.add_argument("--no-browser", action="store_true", help="do not open a browser")
    run.set_defaults(run=_demo)


def _grade(args: argparse.Namespace) -> int:
    from pathlib import Path

    from medai_edu_ops.grading import course, report, sandbox

    limits = sandbox.Limits(memory_bytes=int(args.memory_gb * (1 << 30)), cpu_seconds=args.cpu_seconds)
    options = course.Options(
        workers=args.workers, cell_timeout=args.cell_timeout, unisolated=args.unisolated, limits=limits
    )
    try:
        results = course.grade(args.lesson, Path(args.root), options)
    except (course.GradingError, sandbox.IsolationUnavailable) as error:
        print(f"medai-edu grade: {error}", file=sys.stderr)
        return 2
    print(report.table(results))
    path = report.write_csv(results, Path(args.csv or Path(args.root) / f"grades-{args.lesson}.csv"))
    print(
        f"Wrote {path} (nbgrader's own export: {course.WORK_DIR}/{args.lesson}/nbgrader-export.csv); "
        f"feedback without hidden tests: feedback/<student>/{args.lesson}/"
    )
    return 0


def _add_grade(commands: argparse._SubParsersAction) -> None:
    grade = commands.add_parser(
        "grade", help="autograde every submission of a lesson, each isolated, and print a table"
    )
    grade.add_argument("lesson", help="the assignment, e.g. 00_welcome (submissions in submitted/<student>/<lesson>/)")
    grade.add_argument("--root", default=".", help="the course folder with nbgrader_config.py (default: here)")
    grade.add_argument("--workers", type=int, default=2, help="submissions run at the same time (default 2)")
    grade.add_argument(
        "--csv", default=None, help="where to write the table (default grades-LESSON.csv in the course folder)"
    )
    grade.add_argument(
        "--cell-timeout", type=float, default=None, help="seconds per cell (default: nbgrader_config's Execute.timeout)"
    )
    grade.add_argument(
        "--memory-gb", type=float, default=4.0, help="address-space limit of a submission's Python (default 4)"
    )
    grade.add_argument(
        "--cpu-seconds", type=int, default=900, help="CPU-time limit of a submission's Python (default 900)"
    )
    grade.add_argument(
        "--unisolated",
        action="store_true",
        help="run student code without bubblewrap (it then runs as you, with your files and network)",
    )
    grade.set_defaults(run=_grade)


def _cache(args: argparse.Namespace) -> int:
    from medai_edu import shared_cache

    return shared_cache.run(args)


def _add_cache(commands: argparse._SubParsersAction) -> None:
    from medai_edu import shared_cache

    run = commands.add_parser(
        "cache",
        help="build every lesson's data and results ahead of a class (e.g. into a shared folder), or check them",
    )
    shared_cache.add_arguments(run).set_defaults(run=_cache)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medai-edu", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="check that this machine can run the course").set_defaults(run=_doctor)
    _add_train(commands)
    _add_bench(commands)
    _add_demo(commands)
    _add_grade(commands)
    from medai_edu_ops.grading import collect, upload

    collect.add_parser(commands)
    upload.add_parser(commands)
    _add_cache(commands)
    from medai_edu_ops.hub.commands import add_parser as add_hub_parser

    add_hub_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
