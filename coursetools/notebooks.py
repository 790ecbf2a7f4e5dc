"""The course's notebooks: the lessons, their worked solutions, titles and SEED lines.

Standard library only: run.py checks the `course` arguments with it before any set-up.
A lesson is `course/NN_<name>.ipynb`; its worked solutions, if written, are
`course/solutions/NN_<name>_solutions.ipynb`.
"""

import json
from pathlib import Path

from coursetools.execute import SEED_LINE

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"


def lessons(only=None, folder=None):
    """The lessons in course order; with `only`, those whose name starts with a prefix."""
    paths = sorted(Path(folder or COURSE).glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [path for path in paths if any(path.name.startswith(p) for p in only)]
    return paths


def solutions_of(lesson):
    """The worked-solutions notebook of `lesson`, or None while it is not written."""
    lesson = Path(lesson)
    path = lesson.parent / "solutions" / f"{lesson.stem}_solutions.ipynb"
    return path if path.exists() else None


def with_solutions(paths):
    """`paths` with each lesson's solutions notebook right after it."""
    result = []
    for lesson in paths:
        result.append(Path(lesson))
        solutions = solutions_of(lesson)
        if solutions is not None:
            result.append(solutions)
    return result


def lesson_of(path):
    """The lesson a notebook belongs to: itself, or the lesson its solutions solve."""
    path = Path(path)
    if path.parent.name == "solutions" and path.stem.endswith("_solutions"):
        return path.parent.parent / f"{path.stem.removesuffix('_solutions')}.ipynb"
    return path


def _read(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _code_sources(notebook):
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            yield "".join(cell["source"])


def without_seed(paths):
    """The names of the notebooks among `paths` with no `SEED = <int>` line in a code cell."""
    return [
        Path(path).name
        for path in paths
        if not any(SEED_LINE.search(source) for source in _code_sources(_read(path)))
    ]


def heading(path):
    """`(title, subtitle)` of a notebook: its H1 and the first paragraph after it."""
    for cell in _read(path)["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        lines = "".join(cell["source"]).splitlines()
        for index, line in enumerate(lines):
            if line.startswith("# "):
                paragraph = []
                for rest in lines[index + 1 :]:
                    if rest.strip():
                        paragraph.append(rest.strip())
                    elif paragraph:
                        break
                return line[2:].strip(), " ".join(paragraph)
    return Path(path).stem, ""
