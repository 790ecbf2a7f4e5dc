"""`run.py test` (coursetools.testing): how it reads pytest's counts and reports them."""

from coursetools import testing


def test_pytest_counts_read_the_summary_line():
    output = "...\n= 3 failed, 120 passed, 2 skipped, 1 error, 1 xfailed in 300.5s (0:05:00) =\n"
    assert testing.pytest_counts(output) == {
        "failed": 3,
        "passed": 120,
        "skipped": 2,
        "error": 1,
        "xfailed": 1,
    }
    assert testing.pytest_counts("") == {}


def test_the_closing_line_is_one_ci_can_read():
    counts = {"passed": 10, "failed": 1, "error": 1, "skipped": 2}
    assert testing._counts_text(counts) == "10 passed, 2 failed, 2 skipped"


def test_everything_the_project_holds_is_linted():
    assert testing.LINTED == ["lstmkit", "coursetools", "tests", "benchmarks", "course", "run.py"]
