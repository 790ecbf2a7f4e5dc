"""The two mechanical claim checks, on planted examples: a number the run does not show
(coursetools.claims) and a check a trivial stand-in passes (lstmkit.report.check)."""

import json

import pytest

from coursetools import claims
from lstmkit import report


def notebook(markdown, code="", output=""):
    """A small executed notebook: one markdown cell, one code cell with one printed output."""
    return {
        "cells": [
            {"cell_type": "markdown", "source": markdown, "metadata": {}},
            {
                "cell_type": "code",
                "source": code,
                "metadata": {},
                "outputs": [{"output_type": "stream", "name": "stdout", "text": output}],
            },
        ]
    }


def unshown(markdown, code="", output="", **kwargs):
    return [
        item.text for item in claims.unshown_numbers(notebook(markdown, code, output), **kwargs)
    ]


def test_a_hard_coded_figure_is_caught():
    assert unshown("The LSTM reaches a test MSE of 0.0033.", output="test MSE 0.0412") == ["0.0033"]


def test_a_printed_figure_at_the_written_precision_passes():
    assert unshown("The LSTM reaches 0.93 here.", output="accuracy 0.9312") == []
    assert unshown("The LSTM reaches 0.94 here.", output="accuracy 0.9312") == ["0.94"]
    assert unshown("It ends at 93 % accuracy.", output="accuracy 0.9312") == []
    assert unshown("It ends at 93.1 % accuracy.", output="accuracy 93.12%") == []
    assert unshown("There are 2,524 windows.", output="2524 windows") == []
    assert unshown("Float32 stops near 1.2 × 10⁻³⁸ here.", output="tiny 1.1754944e-38") == []
    assert unshown("A drop of 0.12 after a wrong digit.", output="drop -0.118") == []


def test_settings_years_references_and_names_are_not_figures():
    code = "EPOCHS = 8\nmodel = build(units=64, rate=0.2)"
    text = (
        "We train for 8 epochs with 64 units and dropout 20 %. Cho et al. (2014) and notebook 10 "
        "explain it; float32, a 3-D tensor, 12-gram counts and Conv1D are names; exercise 3 asks."
    )
    assert unshown(text, code=code) == []


def test_math_code_and_quoted_sources_are_exempt():
    text = (
        "The baseline is $\\tfrac{1}{6} \\approx 0.167$ and `LSTM(128)` is code.\n\n"
        "fastbook ch. 12 reports 75.8 % for its 2-layer LSTM.\n\n"
        "Kim's Table 2 gives 76.1 %. See [the guide](https://keras.io/guides/x) for 4.5×.\n\n"
        "For example, a batch of 32 sentences of 20 words."
    )
    assert unshown(text) == []
    assert unshown("CNN-rand reaches 76.1 % on these snippets.") == ["76.1"]


def test_a_number_that_looks_like_a_year_does_not_make_a_sentence_quoted():
    # Only a citation-shaped year exempts a sentence; a count such as 2048 left the other
    # numbers of its sentence unchecked.
    assert unshown("Trained on 2048 sequences, the tagger reached 0.61 accuracy.") == ["0.61"]
    assert unshown("With 1900 training pairs the BLEU is 17.3.") == ["17.3"]
    assert unshown("The test years (1959–60) peak high; 1949-60 too.") == []
    assert unshown("It moves from 0.2–0.61 here.") == ["0.2", "0.61"]
    for cited in (
        "Cho et al. (2014) report 0.61 here.",
        "It reaches 0.61 (Cho et al., 2014).",
        "It reaches 0.61 (Wang & Manning, 2012; Kim, 2014).",
        "Luong et al. (2015b) report 0.61.",
        "Loshchilov & Hutter (2019) found 0.61.",
    ):
        assert unshown(cited) == [], cited


def test_a_number_glued_to_its_unit_is_a_figure():
    assert unshown("The fused path is 3.4x faster.") == ["3.4"]
    assert unshown("One step takes 40ms and 2GB.") == ["40", "2"]
    assert unshown("The fused path is 3.4x faster.", output="speed-up 3.41") == []
    assert unshown("A 3D tensor, the 2nd layer, 64d vectors, a 12xl box.") == []


def test_exercise_hints_may_be_shown_by_the_solutions_run():
    lesson = notebook("## Exercises\n\n1. Train longer. *Hint:* it reaches 0.083.")
    solution = notebook("# Solutions", output="test MSE 0.0831")
    assert [u.text for u in claims.unshown_numbers(lesson)] == ["0.083"]
    assert claims.unshown_numbers(lesson, exercise_runs=[solution]) == []


def test_the_report_names_the_cell_and_the_sentence():
    found = claims.unshown_numbers(notebook("The LSTM solved it in epoch 12, at 0.0062."))
    assert [(item.cell, item.text) for item in found] == [(0, "12"), (0, "0.0062")]
    assert "cell 0: '0.0062'" in str(found[1]) and "solved it in epoch 12" in str(found[1])


# ---------------------------------------------------------------------------------------
# lstmkit.report.check: a check must fail for its trivial stand-in.
# ---------------------------------------------------------------------------------------


def check_lstm_learns(results):
    assert results["lstm_mse"] < 0.3 * results["constant_mse"], results


def check_vacuous(results):
    assert results["lstm_mse"] < 10 * results["constant_mse"], results  # a constant passes


def test_a_check_that_fails_for_the_constant_answer_is_recorded(tmp_path, monkeypatch, capsys):
    figures = tmp_path / "figures.jsonl"
    monkeypatch.setenv(report.FIGURES_ENV, str(figures))
    results = {"lstm_mse": 0.004, "constant_mse": 0.167}
    stand_ins = {"the constant answer": {"lstm_mse": 0.167}}
    assert report.check(check_lstm_learns, results, stand_ins) is results
    assert "holds; fails for the constant answer" in capsys.readouterr().out
    (entry,) = report.read_checks(figures)
    assert entry["check"] == "check_lstm_learns" and "def check_lstm_learns" in entry["source"]
    assert entry["results"] == results and entry["stand_ins"] == stand_ins
    record_lines = [json.loads(line) for line in figures.read_text().splitlines()]
    assert report.read(figures) == {} and len(record_lines) == 1


def test_a_planted_vacuous_check_is_refused():
    with pytest.raises(AssertionError, match="passes for the constant answer"):
        report.check(
            check_vacuous,
            {"lstm_mse": 0.004, "constant_mse": 0.167},
            {"the constant answer": {"lstm_mse": 0.167}},
        )


def test_a_check_that_fails_on_the_run_itself_fails_the_lesson():
    with pytest.raises(AssertionError):
        report.check(
            check_lstm_learns,
            {"lstm_mse": 0.15, "constant_mse": 0.167},
            {"the constant answer": {"lstm_mse": 0.167}},
        )


@pytest.mark.parametrize(
    "stand_ins", [{}, {"x": {}}, {"x": {"unknown": 1.0}}, {"x": 0.167}], ids=str
)
def test_stand_ins_must_replace_results(stand_ins):
    with pytest.raises(ValueError, match="(?i)stand"):
        report.check(check_lstm_learns, {"lstm_mse": 0.004, "constant_mse": 0.167}, stand_ins)


# ---------------------------------------------------------------------------------------
# A worked solution asserts its hint: a planted false hint fails the notebook's run.
# ---------------------------------------------------------------------------------------

PLANTED_SOLUTION = """\
import numpy as np
from lstmkit.report import check

rng = np.random.default_rng(0)
targets = rng.uniform(0, 1, 2000) + rng.uniform(0, 1, 2000)  # the adding problem's sums
mean_answer_mse = float(np.mean((targets - 1.0) ** 2))  # answer 1.0 always
print(f"answering 1.0: MSE {mean_answer_mse:.3f}")


def check_hint(results):
    assert CONDITION, results


check(check_hint, {"mean_answer_mse": mean_answer_mse}, stand_ins=STAND_INS)
"""


@pytest.mark.parametrize(
    "hint, condition, stand_ins, passes",
    [
        (
            "answering 1.0 scores within 0.02 of 1/6",
            'abs(results["mean_answer_mse"] - 1 / 6) < 0.02',
            '{"answering 0.0": {"mean_answer_mse": 1.17}}',
            True,
        ),
        (
            "answering 1.0 scores below 0.05",
            'results["mean_answer_mse"] < 0.05',
            '{"a trained model": {"mean_answer_mse": 0.01}}',
            False,
        ),
    ],
    ids=["true hint", "false hint"],
)
def test_a_solution_whose_hint_is_false_fails(tmp_path, hint, condition, stand_ins, passes):
    nbformat = pytest.importorskip("nbformat")
    from coursetools import execute

    code = PLANTED_SOLUTION.replace("CONDITION", condition).replace("STAND_INS", stand_ins)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell(f"# Planted\n\n## Exercise 1\n\n*Hint:* {hint}."),
        nbformat.v4.new_code_cell(code),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    source = tmp_path / "99_planted_solutions.ipynb"
    nbformat.write(notebook, source)
    run = execute.execute(source, tmp_path / "out", timeout=300)
    assert run.passed is passes, run.error
    if not passes:
        assert run.error.cell == 1 and run.error.name == "AssertionError"
