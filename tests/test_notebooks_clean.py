"""The course notebooks as files: stored without outputs, and shaped like a lesson."""

import json
import pathlib
import re

import pytest

COURSE = pathlib.Path(__file__).resolve().parents[1] / "course"
NOTEBOOKS = sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((COURSE / "solutions").glob("[0-9][0-9]_*_solutions.ipynb"))
EVERY_NOTEBOOK = NOTEBOOKS + SOLUTIONS
SECTIONS = [
    "What you will learn",
    "Intuition",
    "The math",
    "Code",
    "Experiment",
    "What we measured",
    "Summary",
    "Exercises",
]


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks in {COURSE}"


@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    notebook = json.loads(path.read_text())
    dirty = [
        i
        for i, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code"
        and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; strip them (pre-commit does)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_structure(path):
    cells = json.loads(path.read_text())["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert markdown.lstrip().startswith("# "), "starts with an H1 title"
    positions = [markdown.find(section) for section in SECTIONS]
    assert -1 not in positions, [s for s, p in zip(SECTIONS, positions) if p == -1]
    assert positions == sorted(positions), "sections in the fixed order"
    exercises = markdown[markdown.rfind("## Exercises") :]
    count = len(re.findall(r"^\d+\. ", exercises, flags=re.M))
    assert 2 <= count <= 4 and exercises.count("Hint") >= count, "2-4 exercises, each with a hint"
    first_code = next("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert 'os.environ.setdefault("KERAS_BACKEND"' in first_code.split("import keras")[0]
    assert "set_random_seed" in code
    assert "assert " in code and "record(" in code


@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda p: p.stem)
def test_seed_is_one_line_the_runner_can_change(path):
    # `python3 run.py course --seed N` rewrites this line to check the asserts under other seeds.
    cells = json.loads(path.read_text())["cells"]
    first_code = next("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert re.search(r"(?m)^SEED = \d+\b", first_code), "first code cell defines `SEED = <int>`"
    assert "set_random_seed(SEED)" in first_code


@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda p: p.stem)
def test_every_fit_shows_progress(path):
    # A silent fit is a silent cell: a fit with verbose=0 needs a ProgressLine beside it.
    cells = json.loads(path.read_text())["cells"]
    silent = [
        i
        for i, cell in enumerate(cells)
        if cell["cell_type"] == "code"
        and ".fit(" in "".join(cell["source"])
        and re.search(r"verbose\s*=\s*0", "".join(cell["source"]))
        and "ProgressLine" not in "".join(cell["source"])
    ]
    assert not silent, f"cells {silent} call fit(verbose=0) without a ProgressLine"


@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda p: p.stem)
def test_valid_nbformat(path):
    # The runner writes and exports each executed notebook; nbformat refuses an
    # invalid one (e.g. a kernelspec stripped of its display_name).
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.read(path, as_version=4))


def _markdown(path):
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def _exercise_count(lesson):
    exercises = _markdown(lesson)[_markdown(lesson).rfind("## Exercises") :]
    return len(re.findall(r"^\d+\. ", exercises, flags=re.M))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_lesson_has_worked_solutions_linked_from_its_exercises(path):
    solutions = COURSE / "solutions" / f"{path.stem}_solutions.ipynb"
    assert solutions.exists(), f"no worked solutions at {solutions.relative_to(COURSE.parent)}"
    exercises = _markdown(path)[_markdown(path).rfind("## Exercises") :]
    assert f"solutions/{solutions.name}" in exercises, "the Exercises section links to them"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solutions_answer_every_exercise_and_link_back(path):
    lesson = COURSE / path.name.replace("_solutions", "")
    assert lesson.exists(), f"{path.name} has no lesson {lesson.name}"
    markdown = _markdown(path)
    assert markdown.lstrip().startswith("# "), "starts with an H1 title"
    assert f"../{lesson.name}" in markdown.split("## ")[0], "opens with a link to its lesson"
    answered = [int(n) for n in re.findall(r"^## Exercise (\d+)\b", markdown, flags=re.M)]
    assert answered == list(range(1, _exercise_count(lesson) + 1)), answered
