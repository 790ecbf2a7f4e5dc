"""`run.py test`: ruff over everything, then pytest over tests/ once per backend.

Each backend runs in its own pytest process (Keras fixes the backend when it is first
imported); tests/test_course.py executes the notebooks there, `LSTMKIT_TEST_WORKERS` at a
time. Prints pass/fail counts and seconds per backend, and ends with one line of totals.
"""

import os
import re
import subprocess
import sys
import tempfile
import time

from coursetools.environment import QUIET_TF, ROOT

LINTED = ["lstmkit", "coursetools", "tests", "benchmarks", "course", "run.py"]
FIGURES_ENV = "LSTMKIT_FIGURES"  # set by the course runner; a test must not inherit it


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


def run_pytest(backend, pytest_args=()):
    """pytest over tests/ with KERAS_BACKEND=backend, its output shown as it comes;
    returns `(exit code, counts, seconds)`."""
    env = dict(os.environ, KERAS_BACKEND=backend, **QUIET_TF)
    env.pop(FIGURES_ENV, None)
    command = [sys.executable, "-m", "pytest", "tests", "-q", "-rfEs", "--durations=5"]
    command += list(pytest_args)
    print(f"\n== {backend}: {' '.join(command[2:])}", flush=True)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for line in process.stdout:
            sys.stdout.write(line)
            log.write(line)
        process.wait()
        log.seek(0)
        counts = pytest_counts(log.read())
    return process.returncode, counts, time.perf_counter() - start


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
