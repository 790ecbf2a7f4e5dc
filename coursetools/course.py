"""`run.py course`: every selected lesson and its worked solutions, executed once per
backend and seed, then the results table and the site.

Each notebook runs in a fresh kernel of this environment (`coursetools.execute.Batch`:
several kernels at once, one thread each; lesson 11, which times things, alone after the
rest); the kernel's backend and seed come from the run, so one process runs them all.
The executed copies go to `<out>/course/<backend>[/seed-N]/` (solutions in `solutions/`
below), the results to `<out>/course/results.json`, the site to `<out>/site/`.
"""

import datetime
import os
import shlex
import sys
from pathlib import Path

from coursetools import execute, notebooks, results
from coursetools.environment import BACKENDS, QUIET_TF

DEFAULT_OUT = notebooks.ROOT / "build"
ALONE_PREFIXES = ("11_",)  # lessons that time things: run by themselves, with every thread


def main(args):
    """The `course` command, from arguments `coursetools.cli.parse` checked."""
    data = args.data or os.environ.get("LSTMKIT_DATA_MIRROR")
    return run(
        notebooks.lessons(args.only),
        backends=list(BACKENDS) if args.backend == "all" else [args.backend],
        seeds=args.seeds or [None],
        out=Path(args.out).resolve() if args.out else DEFAULT_OUT,
        data=data,
        cell_timeout=args.cell_timeout,
        workers=args.workers,
        command="python3 run.py " + shlex.join(sys.argv[1:] or ["course"]),
    )


def seed_data(data, backend):
    os.environ.setdefault("KERAS_BACKEND", backend)  # lstmkit imports Keras
    from lstmkit import datasets

    copied = datasets.seed_cache(data)
    print(f"Seeded {len(copied)} dataset files from {data} into {datasets.cache_dir()}")


def run_one(paths, backend, seed, out_dir, course_folder, cell_timeout=900, workers=1):
    """Executes `paths` (lessons and solutions) on one backend and seed into `out_dir`;
    yields each notebook's result row as it finishes, in the order of `paths`."""
    from lstmkit.report import read

    batch = execute.Batch(
        paths,
        lambda path: Path(out_dir, Path(path).parent.relative_to(course_folder)),
        workers=workers,
        alone=[p for p in paths if notebooks.lesson_of(p).name.startswith(ALONE_PREFIXES)],
        seed=seed,
        timeout=cell_timeout,
        env={"KERAS_BACKEND": backend, **QUIET_TF},
    )
    try:
        for path in paths:
            run = batch.run(path)
            figures = read(run.figures_path)
            yield {
                "notebook": Path(path).relative_to(course_folder).as_posix(),
                "backend": backend,
                "seed": seed,
                "passed": run.passed,
                "seconds": round(run.seconds, 1),
                "error": "" if run.passed else str(run.error),
                "finished": datetime.datetime.now().isoformat(timespec="seconds"),
                "figures": {name: value for name, (value, _) in figures.items()},
                "units": {name: unit for name, (_, unit) in figures.items() if unit},
            }
    finally:
        batch.close()


def notebook_entry(path, course_folder):
    title, subtitle = notebooks.heading(path)
    return {
        "path": Path(path).relative_to(course_folder).as_posix(),
        "name": Path(path).stem,
        "lesson": notebooks.lesson_of(path).relative_to(course_folder).as_posix(),
        "title": title,
        "subtitle": subtitle,
    }


def run(
    lessons,
    backends,
    seeds=(None,),
    out=DEFAULT_OUT,
    data=None,
    cell_timeout=900,
    workers=None,
    command="python3 run.py course",
    course_folder=notebooks.COURSE,
    build_site=True,
):
    """Runs `lessons` and their solutions on every backend and seed; returns the exit code."""
    if not lessons:
        print(f"No notebooks to run in {course_folder}: nothing was executed.")
        return 1
    paths = notebooks.with_solutions(lessons)
    workers = workers or execute.default_workers()
    if data:
        seed_data(data, backends[0])
    course_dir = Path(out, "course")
    record = {
        "command": command,
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "runs": [
            {"backend": b, "seed": s, "folder": results.run_folder(b, s)}
            for b in backends
            for s in seeds
        ],
        "notebooks": [notebook_entry(path, course_folder) for path in paths],
        "results": [],
    }
    print(f"{len(paths)} notebooks × {len(record['runs'])} runs, {workers} at a time", flush=True)
    for entry in record["runs"]:
        backend, seed = entry["backend"], entry["seed"]
        label = results.run_label(backend, seed, short=True)
        out_dir = course_dir / entry["folder"]
        for row in run_one(paths, backend, seed, out_dir, course_folder, cell_timeout, workers):
            record["results"].append(row)
            status = "passed" if row["passed"] else f"FAILED: {row['error']}"
            print(f"{row['notebook']:<48} {label:<16} {row['seconds']:7.1f}s  {status}", flush=True)
            if "DatasetUnavailableError" in row["error"]:
                print(
                    "  A dataset file is missing and could not be downloaded: run with "
                    "--data FOLDER (e.g. ../shared/data) or `python3 run.py seed-cache FOLDER`.",
                    flush=True,
                )
    record["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    results.save(course_dir, record)

    print()
    print("\n".join(results.console_table(record)))
    print(f"\nExecuted notebooks: {course_dir}/<backend>/ (results.json beside them)")
    for entry in record["runs"]:
        passed, failed, seconds = results.run_totals(record, entry)
        label = results.run_label(entry["backend"], entry["seed"], short=True)
        print(f"course on {label}: {passed} passed, {failed} failed ({seconds:.0f} s)")
    failed = sum(not row["passed"] for row in record["results"])
    if build_site:
        from coursetools import site

        index = site.build(record, course_dir, Path(out, "site"))
        print(f"\nThe site: {index}")
        print(f"Open it in a browser, or serve it: python3 -m http.server -d {index.parent}")
    return 1 if failed else 0
