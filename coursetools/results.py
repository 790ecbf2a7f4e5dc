"""The results of one `course` run, as saved beside the executed notebooks and shown.

A run covers some backends and seeds (each pair is one *run* of the course) and, in each,
every selected lesson and its worked solutions. `results.json` records which runs were
made, each notebook's outcome in each (passed, seconds, the failing cell, the figures it
recorded with `lstmkit.report.record`) and the command; the console table and the site's
course table are both read from it, so they show what this run checked and nothing else.
"""

import json
from pathlib import Path

from coursetools.environment import BACKEND_LABELS

RESULTS_FILE = "results.json"


def run_folder(backend, seed):
    """Where a run's executed notebooks go, relative to the course folder of the build."""
    return backend if seed is None else f"{backend}/seed-{seed}"


def run_label(backend, seed, short=False):
    name = backend if short else BACKEND_LABELS.get(backend, backend)
    return name if seed is None else f"{name} · seed {seed}"


def save(folder, record):
    path = Path(folder, RESULTS_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return path


def load(folder):
    return json.loads(Path(folder, RESULTS_FILE).read_text(encoding="utf-8"))


def result_of(record, notebook, run):
    """The result of `notebook` (its path under course/) in `run` (a dict of record["runs"]),
    or None if it was not run there."""
    for row in record["results"]:
        if row["notebook"] == notebook and (row["backend"], row["seed"]) == (
            run["backend"],
            run["seed"],
        ):
            return row
    return None


def run_totals(record, run):
    """`(passed, failed, seconds)` over the notebooks of one run."""
    rows = [
        r for r in record["results"] if (r["backend"], r["seed"]) == (run["backend"], run["seed"])
    ]
    passed = sum(r["passed"] for r in rows)
    return passed, len(rows) - passed, sum(r["seconds"] for r in rows)


def format_value(value, unit=""):
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}{unit}"
    return f"{value}{unit}"


def figure_names(record, notebook):
    """The names of the figures a notebook recorded, in first-recorded order, over all runs."""
    names = []
    for row in record["results"]:
        if row["notebook"] == notebook:
            names += [name for name in row["figures"] if name not in names]
    return names


def figure_cells(record, notebook, name):
    """The figure's value as shown, per run; None where that run has no value."""
    cells = []
    for run in record["runs"]:
        row = result_of(record, notebook, run)
        if row is None or name not in row["figures"]:
            cells.append(None)
        else:
            cells.append(format_value(row["figures"][name], row["units"].get(name, "")))
    return cells


def console_table(record):
    """The table printed at the end of a run: a row per notebook and quantity (passed,
    seconds, each figure), a column per run; "-" marks what was not run."""
    runs = record["runs"]
    lines = [
        "| notebook | quantity | "
        + " | ".join(run_label(r["backend"], r["seed"], short=True) for r in runs)
        + " |",
        "|---|---|" + "---:|" * len(runs),
    ]
    for notebook in record["notebooks"]:
        name = notebook["path"]
        rows = [result_of(record, name, run) for run in runs]
        quantities = [
            ("passed", [None if r is None else ("yes" if r["passed"] else "NO") for r in rows]),
            ("seconds", [None if r is None else f"{r['seconds']:.1f}" for r in rows]),
        ]
        quantities += [(f, figure_cells(record, name, f)) for f in figure_names(record, name)]
        for index, (quantity, cells) in enumerate(quantities):
            shown = notebook["name"] if index == 0 else ""
            values = [cell if cell is not None else "-" for cell in cells]
            lines.append(f"| {shown} | {quantity} | " + " | ".join(values) + " |")
    return lines
