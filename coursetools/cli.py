"""The command line of `run.py` and `python -m coursetools`: parsing, checking, dispatch.

Standard library only: run.py parses and checks the arguments with this module before
any set-up, so that a typo is reported at once, not after the install of the pinned stack.
The commands themselves (`course`, `test`, `seed-cache`) import their modules only here,
inside the environment.
"""

import argparse
import os
import sys
from pathlib import Path

from coursetools import notebooks

BACKENDS = ("tensorflow", "jax", "torch")
DATA_MIRROR_ENV = "LSTMKIT_DATA_MIRROR"  # as tests/conftest.py


def parser():
    parser = argparse.ArgumentParser(
        prog="run.py", description="Set up, run and test the lstmkit course."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    course = sub.add_parser(
        "course", help="execute the lessons and their solutions, then build the site"
    )
    course.add_argument(
        "--backend",
        help="tensorflow, jax, torch, or all; default: $KERAS_BACKEND or tensorflow",
    )
    course.add_argument("--only", nargs="+", metavar="PREFIX", help="e.g. --only 00 03")
    course.add_argument(
        "--data",
        metavar="FOLDER",
        help=f"seed the Keras cache from the files in FOLDER first (default: ${DATA_MIRROR_ENV})",
    )
    course.add_argument(
        "--seed",
        "--seeds",
        dest="seeds",
        type=int,
        nargs="+",
        metavar="N",
        help="run every notebook once per seed, with `SEED = N` (each must define SEED)",
    )
    course.add_argument(
        "--out",
        metavar="FOLDER",
        help="build folder: executed notebooks in FOLDER/course, the site in FOLDER/site"
        " (default: build under this checkout)",
    )
    course.add_argument("--cell-timeout", type=int, default=900, metavar="SECONDS")
    course.add_argument(
        "--workers",
        type=int,
        help="notebooks at once (default: the cores this process may use, at most 2)",
    )
    test = sub.add_parser("test", help="lint, then pytest over tests/ on each backend in turn")
    test.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    test.add_argument(
        "pytest_args",
        nargs="*",
        help="passed on to both pytest runs, the library and the course (after --)",
    )
    sub.add_parser("setup", help="create or update .venv, its Jupyter kernels and mermaid.js")
    seed = sub.add_parser("seed-cache", help="copy dataset files from FOLDER into the Keras cache")
    seed.add_argument("folder")
    return parser


def problems(args, course_folder=None):
    """What is wrong with `args`, as messages for the user; [] when nothing is.

    Only what the standard library can check: notebooks, folders, the backend.
    """
    if args.command == "seed-cache" and not Path(args.folder).is_dir():
        return [f"{args.folder}: no such folder."]
    if args.command != "course":
        return []
    found = []
    backend = args.backend or os.environ.get("KERAS_BACKEND") or "tensorflow"
    if backend not in (*BACKENDS, "all"):
        source = "--backend " if args.backend else "KERAS_BACKEND="
        found.append(
            f"{source}{backend!r} is not a backend of this course; "
            f"use one of {', '.join(BACKENDS)} (or --backend all)."
        )
    folder = Path(course_folder or notebooks.COURSE)
    paths = notebooks.lessons(args.only, folder=folder)
    if not notebooks.lessons(folder=folder):
        found.append(f"No notebooks in {folder}: nothing to run.")
    elif not paths:
        found.append(f"No notebook in {folder} starts with {' or '.join(args.only)}.")
    elif args.seeds is not None:
        missing = notebooks.without_seed(notebooks.with_solutions(paths))
        if missing:
            found.append(
                f"--seed {' '.join(map(str, args.seeds))}: no `SEED = <int>` line in a code "
                f"cell of {', '.join(missing)}; these notebooks cannot take a seed. Leave "
                "them out with --only, or define SEED in their first code cell."
            )
    # keras.utils.set_random_seed passes the seed to NumPy, which takes 0 .. 2**32 - 1:
    # outside it every notebook would fail in its first cell.
    for seed in args.seeds or ():
        if not 0 <= seed < 2**32:
            found.append(f"--seed {seed}: a seed must be in 0 .. 2**32 - 1 (NumPy's range).")
    data = args.data or os.environ.get(DATA_MIRROR_ENV)
    if data and not Path(data).is_dir():
        source = "--data" if args.data else f"${DATA_MIRROR_ENV}"
        found.append(f"{source} {data}: no such folder.")
    if args.cell_timeout <= 0 or (args.workers is not None and args.workers <= 0):
        found.append("--cell-timeout and --workers must be positive.")
    return found


def parse(argv=None, course_folder=None):
    """The parsed arguments; exits with status 2 and the problems if there are any."""
    command_line = parser()
    args = command_line.parse_args(argv)
    found = problems(args, course_folder)
    if found:
        command_line.exit(2, "".join(f"run.py {args.command}: {text}\n" for text in found))
    if args.command == "course":
        args.backend = args.backend or os.environ.get("KERAS_BACKEND") or "tensorflow"
    return args


def main(argv=None):
    """`python -m coursetools ...`: what run.py hands over once the environment is ready."""
    args = parse(argv)
    if args.command == "setup":
        print(f"Ready: {sys.executable}")
        return 0
    if args.command == "seed-cache":
        from coursetools import cache

        return cache.main(args.folder)
    if args.command == "course":
        from coursetools import course

        return course.main(args)
    from coursetools import testing

    return testing.main(args.backends, args.pytest_args)
