#!/usr/bin/env python3
"""Set up, run and test the lstmkit course. Needs only Python 3.10+ to start.

    python3 run.py course     # set up .venv if needed, execute every notebook, print the table
    python3 run.py test       # set up .venv if needed, lint, then the whole suite on all 3 backends

Other commands:
    python3 run.py setup                 # only create/update .venv
    python3 run.py seed-cache FOLDER     # copy dataset files from FOLDER into the Keras cache
    python3 run.py course --backend jax --only 00 03

The virtual environment is .venv next to this file; it is (re)installed whenever
pyproject.toml or constraints.txt changed, with the exact versions in constraints.txt.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
MARKER = VENV / ".lstmkit-installed"
BACKENDS = ("tensorflow", "jax", "torch")
FIGURES_ENV_NAME = "LSTMKIT_FIGURES"  # lstmkit.report.FIGURES_ENV; unset for tests
QUIET_TF = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}


def _install_fingerprint():
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_environment():
    """Creates .venv and installs the pinned stack if missing or stale."""
    if sys.version_info < (3, 10):
        sys.exit(f"lstmkit needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    fingerprint = _install_fingerprint()
    if MARKER.exists() and MARKER.read_text() == fingerprint:
        return
    if not VENV_PYTHON.exists():
        print(f"Creating the virtual environment {VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    print(
        "Installing lstmkit with TensorFlow, JAX and PyTorch (pinned in constraints.txt) ...",
        flush=True,
    )
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        pip + ["-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[all,dev]"], check=True
    )
    MARKER.write_text(fingerprint)


def in_venv():
    return Path(sys.prefix).resolve() == VENV.resolve()


def reexec_in_venv():
    ensure_environment()
    if not in_venv():
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(ROOT / "run.py"), *sys.argv[1:]])


def notebooks(only=None):
    paths = sorted((ROOT / "course").glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.name.startswith(prefix) for prefix in only)]
    return paths


def _format_figures(figures):
    parts = []
    for name, (value, unit) in figures.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        parts.append(f"{name}={shown}{unit}")
    return ", ".join(parts)


def run_course(args):
    backend = args.backend or os.environ.get("KERAS_BACKEND", "tensorflow")
    os.environ["KERAS_BACKEND"] = backend
    for key, value in QUIET_TF.items():
        os.environ.setdefault(key, value)

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    from lstmkit.report import read

    out_dir = ROOT / "build" / "course" / backend
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in notebooks(args.only):
        nb = nbformat.read(path, as_version=4)
        figures_file = out_dir / f"{path.stem}.figures.jsonl"
        figures_file.unlink(missing_ok=True)
        os.environ[FIGURES_ENV_NAME] = str(figures_file)
        client = NotebookClient(
            nb,
            timeout=args.cell_timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.perf_counter()
        error = ""
        try:
            client.execute()
        except CellExecutionError as exc:
            error = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else "error"
        except Exception as exc:  # a dead kernel, a timeout
            error = f"{type(exc).__name__}: {exc}"[:200]
        seconds = time.perf_counter() - start
        nbformat.write(nb, out_dir / path.name)
        html, _ = HTMLExporter().from_notebook_node(nb)
        (out_dir / f"{path.stem}.html").write_text(html, encoding="utf-8")
        figures = read(figures_file)
        rows.append(
            {
                "notebook": path.stem,
                "backend": backend,
                "seconds": round(seconds, 1),
                "passed": not error,
                "error": error,
                "figures": {k: v[0] for k, v in figures.items()},
            }
        )
        status = "passed" if not error else f"FAILED: {error}"
        print(f"{path.stem:<32} {backend:<10} {seconds:7.1f}s  {status}", flush=True)
    (out_dir / "summary.json").write_text(json.dumps(rows, indent=1))
    print()
    print("| notebook | backend | seconds | passed | key figures |")
    print("|---|---|---:|---|---|")
    for row in rows:
        figures = _format_figures({k: (v, "") for k, v in row["figures"].items()})
        print(
            f"| {row['notebook']} | {row['backend']} | {row['seconds']:.1f} | "
            f"{'yes' if row['passed'] else 'NO'} | {figures} |"
        )
    print(f"\nExecuted notebooks (ipynb and HTML): {out_dir}")
    total = sum(r["seconds"] for r in rows)
    failed = sum(not r["passed"] for r in rows)
    print(f"course: {len(rows) - failed} passed, {failed} failed ({total:.0f} s on {backend})")
    return 1 if failed else 0


def _pytest_counts(output):
    counts = {}
    tail = output.strip().splitlines()[-1] if output.strip() else ""
    for number, word in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)", tail):
        word = "error" if word.startswith("error") else word
        counts[word] = counts.get(word, 0) + int(number)
    return counts


def run_tests(args):
    print("== ruff (lint: lstmkit, tests, benchmarks, course notebooks, run.py)", flush=True)
    lint = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "lstmkit",
            "tests",
            "benchmarks",
            "course",
            "run.py",
        ],
        cwd=ROOT,
    )
    totals, failed_backends = {}, []
    for backend in args.backends:
        env = dict(os.environ, KERAS_BACKEND=backend, **QUIET_TF)
        env.pop(FIGURES_ENV_NAME, None)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "tests",
            "course",
            "--nbval-lax",
            "--nbval-current-env",
            f"--nbval-cell-timeout={args.cell_timeout}",
            "-q",
            "-rfEs",
            "--durations=5",
            *args.pytest_args,
        ]
        print(f"\n== {backend}: {' '.join(command[2:])}", flush=True)
        start = time.perf_counter()
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
            counts = _pytest_counts(log.read())
        print(f"== {backend}: {counts} in {time.perf_counter() - start:.0f} s", flush=True)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        if process.returncode != 0:
            failed_backends.append(backend)
    passed = totals.get("passed", 0)
    failed = totals.get("failed", 0) + totals.get("error", 0)
    print()
    if lint.returncode != 0:
        print("ruff found problems (see above).")
    if failed_backends:
        print(f"failing backends: {', '.join(failed_backends)}")
    skipped = f", {totals['skipped']} skipped" if totals.get("skipped") else ""
    print(f"{len(args.backends)} backends: {passed} passed, {failed} failed{skipped}")
    ok = lint.returncode == 0 and not failed_backends and passed > 0
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description="Set up, run and test the lstmkit course.")
    sub = parser.add_subparsers(dest="command", required=True)
    course = sub.add_parser("course", help="execute every notebook and print the results table")
    course.add_argument("--backend", choices=BACKENDS, help="default: $KERAS_BACKEND or tensorflow")
    course.add_argument("--only", nargs="+", metavar="PREFIX", help="e.g. --only 00 03")
    course.add_argument("--cell-timeout", type=int, default=900)
    test = sub.add_parser("test", help="lint, then pytest + nbval on each backend in turn")
    test.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    test.add_argument("--cell-timeout", type=int, default=900)
    test.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --)")
    sub.add_parser("setup", help="create or update .venv")
    seed = sub.add_parser("seed-cache", help="copy dataset files from FOLDER into the Keras cache")
    seed.add_argument("folder")
    args = parser.parse_args()

    reexec_in_venv()
    if args.command == "setup":
        print(f"Ready: {VENV_PYTHON}")
        return 0
    if args.command == "seed-cache":
        from lstmkit import datasets

        copied = datasets.seed_cache(args.folder)
        print(f"Copied {len(copied)} files into {datasets.cache_dir()}: {', '.join(copied)}")
        return 0
    if args.command == "course":
        return run_course(args)
    return run_tests(args)


if __name__ == "__main__":
    sys.exit(main())
