"""The site: the executed course of one run, built by Sphinx with MyST-NB and the book theme.

`build(record, course_dir, site_dir)` writes a Sphinx source folder and builds it:

- the front page (`index.md`): the course table of this run (lesson, what it teaches,
  passed or failed and seconds per backend and seed, each linked to its page), the
  failures, and the navigation, one section per backend and seed;
- `figures.md`: the key figures each notebook recorded, per backend and seed;
- every executed notebook of every run, as it was executed, with a note under its
  introduction saying where and how it ran and linking its worked solutions (which
  appear under it in the navigation) and the same lesson in the other runs.

The pages are Markdown and notebooks; Sphinx writes every page. Math (MathJax, from
sphinx-mathjax-offline), diagrams (mermaid.js, installed by the set-up; see
`coursetools.sphinx_offline`) and search (Sphinx's own index) are served by the site, so
it works with no network, also opened straight from disk.
"""

import io
import os
import shutil
import sys
from pathlib import Path

from coursetools import environment, results

TITLE = "lstmkit: the course, executed"
STATIC = Path(__file__).with_name("site_static")


def _link(text, target, page_folder="."):
    """A Markdown link from a page in `page_folder` (relative to the source root)."""
    return f"[{text}]({Path(os.path.relpath(target, page_folder)).as_posix()})"


def _cell_text(text):
    return " ".join(str(text).split()).replace("|", "\\|")


def _when(stamp):
    return stamp.replace("T", " ")[:16]


def _outcome(row):
    mark = "✓" if row["passed"] else "✗ failed,"
    return f"{mark} {row['seconds']:.0f} s"


def course_table(record):
    """The front page's table, in MyST Markdown: a row per notebook, a column per run."""
    runs = record["runs"]
    header = ["Lesson", "What it teaches"] + [
        results.run_label(r["backend"], r["seed"]) for r in runs
    ]
    lines = ["| " + " | ".join(header) + " |", "|---|---|" + "---|" * len(runs)]
    for notebook in record["notebooks"]:
        cells, first_page = [], None
        for run in runs:
            row = results.result_of(record, notebook["path"], run)
            if row is None:
                cells.append("not run")
                continue
            page = f"{run['folder']}/{notebook['path']}"
            first_page = first_page or page
            cells.append(_link(_outcome(row), page))
        if notebook["path"] == notebook["lesson"]:
            name = _cell_text(notebook["title"])
            lesson = _link(name, first_page) if first_page else name
            teaches = _cell_text(notebook["subtitle"])
        else:
            lesson = "↳ " + (_link("worked solutions", first_page) if first_page else "solutions")
            teaches = ""
        lines.append("| " + " | ".join([lesson, teaches] + cells) + " |")
    totals = []
    for run in runs:
        passed, failed, seconds = results.run_totals(record, run)
        totals.append(f"**{passed} of {passed + failed} passed, {seconds:.0f} s**")
    lines.append("| **All notebooks** |  | " + " | ".join(totals) + " |")
    return "\n".join(lines)


def failures(record):
    """A Markdown list of the notebooks that failed, with the run and the error."""
    lines = []
    for row in record["results"]:
        if not row["passed"]:
            run = {"backend": row["backend"], "seed": row["seed"]}
            page = f"{results.run_folder(row['backend'], row['seed'])}/{row['notebook']}"
            error = row["error"].splitlines()[0] if row["error"] else "failed"
            label = results.run_label(**run)
            lines.append(f"- {_link(row['notebook'], page)} on {label}: `{error[:300]}`")
    return "\n".join(lines)


def front_page(record):
    runs = record["runs"]
    backends = sorted({r["backend"] for r in runs}, key=list(environment.BACKENDS).index)
    seeds = sorted({r["seed"] for r in runs}, key=lambda s: -1 if s is None else s)
    seed_text = (
        "each notebook's own `SEED`"
        if seeds == [None]
        else "seeds " + ", ".join(str(s) for s in seeds)
    )
    passed = sum(row["passed"] for row in record["results"])
    parts = [
        f"# {TITLE}",
        "",
        f"The course's notebooks as `{record['command']}` executed them on "
        f"{_when(record['started'])}: {len(record['notebooks'])} notebooks on "
        f"{', '.join(environment.BACKEND_LABELS[b] for b in backends)} with {seed_text}; "
        f"{passed} of {len(record['results'])} executions passed. Every page is a notebook "
        "as it ran: its outputs, figures and checks are that run's.",
        "",
        "## The course",
        "",
        course_table(record),
        "",
        "Each time is the notebook's whole execution, in seconds. The key figures the "
        "notebooks recorded are on [their own page](figures.md).",
    ]
    failed = failures(record)
    if failed:
        parts += ["", "## Failures", "", failed]
    parts += ["", "```{toctree}", ":hidden:", ":caption: This build", "", "figures", "```"]
    for run in runs:
        lessons = [n for n in record["notebooks"] if n["path"] == n["lesson"]]
        entries = [
            f"{run['folder']}/{Path(n['path']).with_suffix('').as_posix()}"
            for n in lessons
            if results.result_of(record, n["path"], run) is not None
        ]
        caption = results.run_label(run["backend"], run["seed"])
        parts += ["", "```{toctree}", ":hidden:", f":caption: {caption}", ""]
        parts += entries + ["```"]
    return "\n".join(parts) + "\n"


def figures_page(record):
    runs = record["runs"]
    header = ["Figure"] + [results.run_label(r["backend"], r["seed"]) for r in runs]
    parts = ["# Key figures", "", "What each notebook recorded with `lstmkit.report.record`."]
    for notebook in record["notebooks"]:
        names = results.figure_names(record, notebook["path"])
        if not names:
            continue
        parts += ["", f"## {notebook['title']}", ""]
        parts += ["| " + " | ".join(header) + " |", "|---|" + "---:|" * len(runs)]
        for name in names:
            cells = [
                c if c is not None else "–"
                for c in results.figure_cells(record, notebook["path"], name)
            ]
            parts.append(f"| `{name}` | " + " | ".join(cells) + " |")
    if len(parts) == 3:
        parts += ["", "No notebook recorded a figure in this run."]
    return "\n".join(parts) + "\n"


def run_note(record, notebook, run, row):
    """The note put under a notebook's introduction on its page, in MyST Markdown."""
    folder = Path(run["folder"], notebook["path"]).parent.as_posix()
    label = results.run_label(run["backend"], run["seed"])
    seed = "its own `SEED`" if run["seed"] is None else f"`SEED = {run['seed']}`"
    outcome = f"passed in {row['seconds']:.0f} s" if row["passed"] else "**failed**"
    lines = []
    if notebook["path"] != notebook["lesson"]:
        lesson = next(n for n in record["notebooks"] if n["path"] == notebook["lesson"])
        target = f"{run['folder']}/{lesson['path']}"
        lines.append(f"Worked solutions for {_link(lesson['title'], target, folder)}.")
    lines.append(f"Executed on **{label}** with {seed}: {outcome} (`{record['command']}`).")
    solutions = [
        n
        for n in record["notebooks"]
        if n["lesson"] == notebook["path"]
        and n["path"] != notebook["path"]
        and results.result_of(record, n["path"], run) is not None
    ]
    for item in solutions:
        target = f"{run['folder']}/{item['path']}"
        lines.append(
            f"The exercises are solved, and run, in {_link(item['title'], target, folder)}."
        )
    others = [
        _link(
            results.run_label(other["backend"], other["seed"]),
            f"{other['folder']}/{notebook['path']}",
            folder,
        )
        for other in record["runs"]
        if other is not run and results.result_of(record, notebook["path"], other) is not None
    ]
    if others:
        lines.append("The same notebook on " + " · ".join(others) + ".")
    kind = "note" if row["passed"] else "error"
    body = ["", f":::{{{kind}}}", " ".join(lines)]
    if not row["passed"]:
        body += ["", "```text", row["error"] or "failed", "```"]
    body.append(":::")
    if solutions:
        body += ["", "```{toctree}", ":hidden:", ""]
        body += [
            Path(os.path.relpath(f"{run['folder']}/{s['path']}", folder)).with_suffix("").as_posix()
            for s in solutions
        ]
        body.append("```")
    return "\n".join(body)


def _label_title(notebook, label):
    """Appends the run's label to the notebook's H1 (its page title)."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines()
            for index, line in enumerate(lines):
                if line.startswith("# "):
                    lines[index] = f"{line} ({label})"
                    cell.source = "\n".join(lines)
                    return


def write_sources(record, course_dir, source):
    """The Sphinx source folder: the two pages and every executed notebook with its note."""
    import nbformat

    Path(source).mkdir(parents=True)
    Path(source, "index.md").write_text(front_page(record), encoding="utf-8")
    Path(source, "figures.md").write_text(figures_page(record), encoding="utf-8")
    for run in record["runs"]:
        for notebook in record["notebooks"]:
            row = results.result_of(record, notebook["path"], run)
            if row is None:
                continue
            relative = Path(run["folder"], notebook["path"])
            executed = nbformat.read(Path(course_dir, relative), as_version=4)
            if len(record["runs"]) > 1:  # tell the runs apart in search results and tabs
                _label_title(executed, results.run_label(run["backend"], run["seed"]))
            note = nbformat.v4.new_markdown_cell(run_note(record, notebook, run, row))
            executed.cells.insert(1 if executed.cells else 0, note)
            Path(source, relative).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(executed, Path(source, relative))


def sphinx_config(mermaid_js):
    return {
        "project": TITLE,
        "author": "the lstmkit authors",
        "html_title": TITLE,
        "extensions": ["myst_nb", "sphinx-mathjax-offline", "coursetools.sphinx_offline"],
        "html_theme": "sphinx_book_theme",
        "html_theme_options": {
            "show_navbar_depth": 1,
            "show_toc_level": 2,
            "home_page_in_toc": True,
            "use_download_button": False,
            "use_fullscreen_button": False,
        },
        "html_context": {"default_mode": "light"},
        "html_static_path": [str(STATIC)],
        "html_css_files": ["course.css"],
        "html_copy_source": False,
        "html_show_sourcelink": False,
        "html_last_updated_fmt": None,
        "nb_execution_mode": "off",
        "nb_merge_streams": True,
        "myst_enable_extensions": ["dollarmath", "amsmath", "colon_fence"],
        "myst_fence_as_directive": ["mermaid"],
        "myst_heading_anchors": 3,
        "offline_mermaid_js": str(mermaid_js or ""),
        "suppress_warnings": ["myst.header", "misc.highlighting_failure"],
        "language": "en",
    }


def build(record, course_dir, site_dir, mermaid_js=None, log=None):
    """Builds the site of `record` (the executed notebooks under `course_dir`) into
    `site_dir`; returns the path of its front page. Raises RuntimeError if Sphinx fails.

    Args:
        mermaid_js: The `mermaid.min.js` to serve (default: the one the set-up installed).
        log: Where Sphinx's messages go (default: `site_dir`'s sibling `site-build.log`).
    """
    from sphinx.application import Sphinx

    site_dir = Path(site_dir)
    work = site_dir.with_name(site_dir.name + "-work")
    shutil.rmtree(work, ignore_errors=True)
    write_sources(record, course_dir, work / "source")
    mermaid_js = mermaid_js or environment.mermaid_js()
    if mermaid_js is None:
        print(
            "No mermaid.js installed (`python3 run.py setup` fetches it with npm): "
            "the site shows the diagrams' source.",
            flush=True,
        )
    log_path = Path(log or site_dir.with_name(site_dir.name + "-build.log"))
    warnings = io.StringIO()
    with open(log_path, "w", encoding="utf-8") as status:
        app = Sphinx(
            str(work / "source"),
            None,
            str(work / "html"),
            str(work / "doctrees"),
            "html",
            confoverrides=sphinx_config(mermaid_js),
            status=status,
            warning=warnings,
            freshenv=True,
        )
        app.build()
        status.write(warnings.getvalue())
    if app.statuscode:
        raise RuntimeError(f"Sphinx failed; its messages are in {log_path}")
    count = warnings.getvalue().count("WARNING")
    if count:
        print(f"Sphinx: {count} warnings, in {log_path}", file=sys.stderr)
    shutil.rmtree(site_dir, ignore_errors=True)
    shutil.move(str(work / "html"), str(site_dir))
    return site_dir / "index.html"
