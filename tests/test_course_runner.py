"""`run.py course` (coursetools.cli, .notebooks, .course, .results): the arguments, the
notebooks it finds, and one real run of a small course of its own on this backend with
two seeds (the `tiny_course_run` fixture in conftest.py)."""

import json

import keras
import nbformat
import pytest

from coursetools import cli, course, notebooks, results

BACKEND = keras.backend.backend()


def _notebook(folder, name, code="SEED = 0"):
    path = folder / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = [
        nbformat.v4.new_markdown_cell(f"# {name}\n\nIt teaches {name}."),
        nbformat.v4.new_code_cell(code),
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


# ----------------------------------------------------------------------------
# Arguments and notebooks
# ----------------------------------------------------------------------------


def test_course_options_parse(tmp_path):
    _notebook(tmp_path, "00_a")
    args = cli.parse(
        ["course", "--backend", "all", "--seeds", "0", "1", "2", "--only", "00", "--out", "o"],
        course_folder=tmp_path,
    )
    assert (args.backend, args.seeds, args.only, args.out) == ("all", [0, 1, 2], ["00"], "o")
    assert cli.parse(["course", "--seed", "3"], course_folder=tmp_path).seeds == [3]
    assert cli.parse(["test", "--", "-k", "x"]).pytest_args == ["-k", "x"]


def test_course_refuses_a_seed_that_a_notebook_or_its_solutions_cannot_take(tmp_path):
    _notebook(tmp_path, "02_with")
    _notebook(tmp_path, "solutions/02_with_solutions", code="print(1)")
    args = cli.parser().parse_args(["course", "--seed", "1"])
    (problem,) = cli.problems(args, course_folder=tmp_path)
    assert "--seed 1" in problem and "02_with_solutions.ipynb" in problem
    assert cli.problems(cli.parser().parse_args(["course"]), course_folder=tmp_path) == []


def test_an_empty_course_gets_a_message_not_a_crash(tmp_path, capsys):
    """Library review, finding 7: no notebooks and no --only crashed with a TypeError."""
    args = cli.parser().parse_args(["course"])
    assert cli.problems(args, course_folder=tmp_path) == [
        f"No notebooks in {tmp_path}: nothing to run."
    ]
    with pytest.raises(SystemExit) as stop:
        cli.parse(["course"], course_folder=tmp_path)
    assert stop.value.code == 2
    assert course.run([], backends=[BACKEND], out=tmp_path / "out", course_folder=tmp_path) == 1
    assert "No notebooks to run" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()


def test_lessons_solutions_and_headings(tmp_path):
    lesson = _notebook(tmp_path, "03_c")
    _notebook(tmp_path, "01_a")
    solutions = _notebook(tmp_path, "solutions/03_c_solutions")
    assert notebooks.lessons(folder=tmp_path) == [tmp_path / "01_a.ipynb", lesson]
    assert notebooks.lessons(["03"], folder=tmp_path) == [lesson]
    assert notebooks.with_solutions([lesson]) == [lesson, solutions]
    assert notebooks.lesson_of(solutions) == lesson and notebooks.lesson_of(lesson) == lesson
    assert notebooks.heading(lesson) == ("03_c", "It teaches 03_c.")
    title, subtitle = notebooks.heading(notebooks.COURSE / "00_setup_and_backends.ipynb")
    assert title.startswith("00 · ") and subtitle and "\n" not in subtitle


# ----------------------------------------------------------------------------
# One real run: two seeds, a lesson with solutions, a lesson that fails
# ----------------------------------------------------------------------------


def test_the_run_records_every_seed_and_notebook(tiny_course_run):
    folder, build, code, printed = tiny_course_run
    assert code == 1  # 97_fails failed
    record = results.load(build / "course")
    assert [(r["backend"], r["seed"]) for r in record["runs"]] == [(BACKEND, 1), (BACKEND, 2)]
    assert [n["path"] for n in record["notebooks"]] == [
        "97_fails.ipynb",
        "98_probe.ipynb",
        "solutions/98_probe_solutions.ipynb",
    ]
    assert record["notebooks"][2]["lesson"] == "98_probe.ipynb"
    rows = {(r["notebook"], r["seed"]): r for r in record["results"]}
    assert len(rows) == 6
    for seed in (1, 2):
        probe = rows["98_probe.ipynb", seed]
        assert probe["passed"] and probe["figures"] == {"answer": 2.0 * seed, "share": 12.5}
        assert probe["units"] == {"share": "%"}
        assert rows["solutions/98_probe_solutions.ipynb", seed]["passed"]
        failed = rows["97_fails.ipynb", seed]
        assert (
            not failed["passed"] and "cell 1: AssertionError: the check failed" in failed["error"]
        )
    assert "97_fails.ipynb" in printed and "FAILED" in printed


def test_executed_copies_carry_the_seed_and_the_outputs(tiny_course_run):
    _, build, _, _ = tiny_course_run
    for seed in (1, 2):
        run_dir = build / "course" / BACKEND / f"seed-{seed}"
        lesson = nbformat.read(run_dir / "98_probe.ipynb", as_version=4)
        assert f"SEED = {seed}" in lesson.cells[1].source
        assert lesson.cells[1].outputs[-1]["text"].strip().endswith(BACKEND)
        solutions = nbformat.read(run_dir / "solutions" / "98_probe_solutions.ipynb", 4)
        assert solutions.cells[1].outputs[0]["text"] == f"solved with seed {seed}\n"


def test_console_table_has_a_column_per_backend_and_seed(tiny_course_run):
    _, build, _, printed = tiny_course_run
    lines = results.console_table(results.load(build / "course"))
    assert lines[0] == f"| notebook | quantity | {BACKEND} · seed 1 | {BACKEND} · seed 2 |"
    assert "| 97_fails | passed | NO | NO |" in lines
    assert "| 98_probe | passed | yes | yes |" in lines
    assert "|  | answer | 2 | 4 |" in lines and "|  | share | 12.5% | 12.5% |" in lines
    assert "| 98_probe_solutions | passed | yes | yes |" in lines
    assert "\n".join(lines) in printed
    assert f"course on {BACKEND} · seed 2: 2 passed, 1 failed" in printed


def test_results_json_is_plain_json(tiny_course_run):
    _, build, _, _ = tiny_course_run
    record = json.loads((build / "course" / "results.json").read_text())
    assert record["command"] == "python3 run.py course --seed 1 2"
    assert record["started"] <= record["finished"]
