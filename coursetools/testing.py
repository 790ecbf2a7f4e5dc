"""`run.py test`: ruff over everything, then pytest over tests/ once per backend.

Each backend runs in pytest processes of its own (Keras fixes the backend when it is first
imported): first the library tests, spread over one single-threaded pytest-xdist worker per
core (most are small models, which a second thread barely speeds up); then
tests/test_course.py, which executes the notebooks `LSTMKIT_TEST_WORKERS` at a time. Prints
pass/fail counts and seconds per backend, and ends with one line of totals.
"""

import os
import re
import subprocess
import sys
import tempfile
import time

from coursetools.environment import QUIET_TF, ROOT
from coursetools.execute import ONE_THREAD, default_workers

LINTED = ["lstmkit", "coursetools", "tests", "benchmarks", "course", "run.py"]
FIGURES_ENV = "LSTMKIT_FIGURES"  # set by the course runner; a test must not inherit it
COURSE_TESTS = "tests/test_course.py"  # the notebooks: a process of their own (see its Batch)
NO_TESTS_COLLECTED = 5  # pytest's exit code when a -k or path selects nothing in a part
# XLA reads no thread variable; these keep each library worker's JAX on one thread.
ONE_THREAD_XLA = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def pytest_counts(output):
    """`{"passed": n, "failed": n, ...}` from the summary line that ends pytest's output."""
    counts = {}
    tail = output.strip().splitlines()[-1] if output.strip() else ""
    for number, word in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)", tail):
        word = "error" if word.startswith("error") else word
        counts[word] = counts.get(word, 0) + int(number)
    return counts


def lint():
    """ruff check and ruff format --check over the project; True when both are clean."""
    print(f"== ruff (lint and format: {', '.join(LINTED)})", flush=True)
    check = subprocess.run([sys.executable, "-m", "ruff", "check", *LINTED], cwd=ROOT)
    formatting = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", *LINTED], cwd=ROOT
    )
    return check.returncode == 0 and formatting.returncode == 0


def pytest_parts(pytest_args=(), workers=None):
    """The two pytest commands of one backend, as `(command, extra environment)`: the
    library tests over `workers` single-threaded xdist workers, then the course."""
    workers = workers or default_workers()
    base = [sys.executable, "-m", "pytest", "-q", "-rfEs", "--durations=5", *pytest_args]
    one_thread = dict(ONE_THREAD, XLA_FLAGS=os.environ.get("XLA_FLAGS", ONE_THREAD_XLA))
    library = [*base, "tests", f"--ignore={COURSE_TESTS}", "-n", str(workers)]
    return [(library, one_thread), ([*base, COURSE_TESTS], {})]


def run_pytest(backend, pytest_args=()):
    """pytest over tests/ with KERAS_BACKEND=backend, its output shown as it comes;
    returns `(exit code, counts, seconds)` summed over the library and course parts."""
    start, code, counts = time.perf_counter(), 0, {}
    for command, extra in pytest_parts(pytest_args):
        env = dict(os.environ, KERAS_BACKEND=backend, **QUIET_TF, **extra)
        env.pop(FIGURES_ENV, None)
        print(f"\n== {backend}: {' '.join(command[2:])}", flush=True)
        with tempfile.TemporaryFile("w+") as log:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for line in process.stdout:
                sys.stdout.write(line)
                log.write(line)
            process.wait()
            log.seek(0)
            for word, number in pytest_counts(log.read()).items():
                counts[word] = counts.get(word, 0) + number
        if process.returncode not in (0, NO_TESTS_COLLECTED):
            code = process.returncode
    if not counts:  # neither part selected a test
        code = NO_TESTS_COLLECTED
    return code, counts, time.perf_counter() - start


def _counts_text(counts):
    failed = counts.get("failed", 0) + counts.get("error", 0)
    text = f"{counts.get('passed', 0)} passed, {failed} failed"
    return text + (f", {counts['skipped']} skipped" if counts.get("skipped") else "")


def main(backends, pytest_args=()):
    linted = lint()
    totals, lines, failing = {}, [], []
    for backend in backends:
        code, counts, seconds = run_pytest(backend, pytest_args)
        lines.append(f"{backend:<11} {_counts_text(counts)} in {seconds:.0f} s")
        print(f"== {lines[-1]}", flush=True)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        if code != 0:
            failing.append(backend)
    print("\n" + "\n".join(lines))
    if not linted:
        print("ruff found problems (see above; `ruff format` fixes the formatting).")
    if failing:
        print(f"failing backends: {', '.join(failing)}")
    print(f"total: {_counts_text(totals)}")
    return 0 if linted and not failing and totals.get("passed", 0) > 0 else 1
