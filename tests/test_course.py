"""The course, executed once per backend: every lesson and its solutions run, show every
number their prose claims, and every check about learning fails for its trivial stand-in.

Each notebook runs once in a fresh kernel of this environment (the backend is this
process's KERAS_BACKEND), into build/test/<backend>/; the tests below read that run's
outputs and recorded checks, so no notebook runs twice.
"""

import math
import os
import pathlib

import keras
import numpy as np
import pytest

from coursetools import claims, execute
from lstmkit import report

ROOT = pathlib.Path(__file__).resolve().parents[1]

COURSE = ROOT / "course"
LESSONS = sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((COURSE / "solutions").glob("[0-9][0-9]_*_solutions.ipynb"))
NOTEBOOKS = LESSONS + SOLUTIONS
OUT = ROOT / "build" / "test" / keras.backend.backend()
# Kernels at once (one thread each): LSTMKIT_TEST_WORKERS, default one per core, at most two.
WORKERS = int(os.environ.get("LSTMKIT_TEST_WORKERS", execute.default_workers()))
# Lessons that time things run alone, after the rest, with every thread.
# Lessons whose asserts are about learning: each records its checks with report.check.
LEARNING_CLAIMS = ("02", "03", "04", "05", "06", "07", "08", "09", "10")
ALONE = [path for path in NOTEBOOKS if path.name.startswith("11_")]
BATCH = execute.Batch(
    NOTEBOOKS, lambda path: OUT / path.parent.relative_to(COURSE), workers=WORKERS, alone=ALONE
)


def select(paths):
    """Executes only the notebooks the selected tests use (conftest calls this)."""
    wanted = set(paths)
    for lesson in [path for path in LESSONS if path in wanted]:
        wanted.update(solutions_of(lesson))  # the exercises' numbers are shown by them
    BATCH.select(wanted)


def run_of(path):
    """The one execution of `path` in this session (the batch starts on first use)."""
    return BATCH.run(path)


def solutions_of(lesson):
    return [path for path in SOLUTIONS if path.name.startswith(lesson.stem)]


def _passed_run(path):
    run = run_of(path)
    if not run.passed:
        pytest.skip(f"{path.name} did not run through (see test_notebook_runs)")
    return run


def _ids(path):
    return path.stem


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_runs(path):
    run = run_of(path)
    if not run.passed:
        error = run.error
        detail = getattr(error, "traceback", "")[-4000:]
        pytest.fail(f"{path.name} failed in {error} (executed copy: {run.path})\n{detail}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_prose_numbers_are_shown_by_the_run(path):
    run = _passed_run(path)
    exercise_runs = [_passed_run(solution).notebook for solution in solutions_of(path)]
    unshown = claims.unshown_numbers(run.notebook, exercise_runs=exercise_runs)
    assert not unshown, f"{path.name} on {keras.backend.backend()}:\n" + "\n".join(
        str(item) for item in unshown
    )


def rerun_check(entry, results):
    """Runs a recorded check's source on `results`; returns the AssertionError or None."""
    namespace = {"np": np, "math": math}
    exec(entry["source"], namespace)  # noqa: S102  (the notebook's own check, as recorded)
    try:
        namespace[entry["check"]](results)
    except AssertionError as error:
        return error
    return None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_every_check_fails_for_its_trivial_stand_in(path):
    run = _passed_run(path)
    checks = report.read_checks(run.figures_path)
    if path in LESSONS and path.name[:2] in LEARNING_CLAIMS:
        assert checks, f"{path.name} claims its models learn but records no report.check"
    for entry in checks:
        assert entry["source"], f"{entry['check']}: its source was not recorded"
        error = rerun_check(entry, entry["results"])
        assert error is None, f"{entry['check']} fails on the run's own results: {error}"
        for name, replaced in entry["stand_ins"].items():
            error = rerun_check(entry, {**entry["results"], **replaced})
            assert error is not None, f"{entry['check']} passes for {name}: it checks nothing"
