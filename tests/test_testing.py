"""`run.py test`'s two pytest runs per backend (coursetools.testing)."""

from coursetools import testing


def test_library_runs_on_single_threaded_workers_and_the_course_in_its_own_run():
    (library, library_env), (course, course_env) = testing.pytest_parts(["-k", "lstm"], workers=2)
    assert library[library.index("-n") + 1] == "2"
    assert f"--ignore={testing.COURSE_TESTS}" in library and "tests" in library
    assert testing.COURSE_TESTS in course and "-n" not in course and "tests" not in course
    assert library_env["OMP_NUM_THREADS"] == library_env["TF_NUM_INTRAOP_THREADS"] == "1"
    assert "XLA_FLAGS" in library_env
    assert course_env == {}  # the notebook batch sets its kernels' threads itself
    for command in (library, course):
        assert command[command.index("-k") + 1] == "lstm"  # the caller's arguments reach both


def test_counts_are_read_from_the_summary_line():
    output = "....\n3 failed, 845 passed, 15 skipped, 2 errors in 12.0s\n"
    assert testing.pytest_counts(output) == {"failed": 3, "passed": 845, "skipped": 15, "error": 2}
    assert testing.pytest_counts("") == {}
