"""run.py, the bootstrap: the Python it accepts, and that it checks the arguments before
any set-up. (The set-up itself is tests/test_environment.py; the commands, the tooling's
own tests.)

Nothing here uses the network or runs pip.
"""

import importlib.metadata
import importlib.util
import json
import os
import pathlib
import re
import sys
import tomllib

import pytest
from fake_programs import fake_python
from packaging.specifiers import SpecifierSet

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("run", ROOT / "run.py")
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)

posix_only = pytest.mark.skipif(os.name == "nt", reason="shell-script interpreters and symlinks")


class _Any:
    def __eq__(self, other):
        return True


ANY = _Any()


@pytest.fixture
def restore_environ():
    """For code under test that sets os.environ itself (the runner does, for its kernels)."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


# ----------------------------------------------------------------------------
# The Python floor
# ----------------------------------------------------------------------------


def test_python_range_boundaries():
    assert not run.python_supported((3, 10, 13))
    assert not run.python_supported((3, 11, 4))
    assert run.python_supported((3, 11, 5))
    assert run.python_supported((3, 13, 9))
    assert not run.python_supported((3, 14, 0))


def test_floor_is_stated_everywhere():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == ">=3.11.5"
    assert pyproject["tool"]["ruff"]["target-version"] == "py311"
    assert run.MIN_PYTHON == (3, 11, 5)
    assert "python>=3.11.5,<3.14" in (ROOT / "environment.yml").read_text()
    assert "Python 3.11.5" in (ROOT / "README.md").read_text()
    assert "3.11.5" in run.__doc__


def _pins():
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            yield match.groups()


def test_floor_is_the_highest_requires_python_of_the_installed_pins():
    """Every pinned package installed here at its pinned version accepts MIN_PYTHON, and
    one of them refuses the patch release before it: the floor is exact."""
    checked, refuse_below = 0, []
    for name, pinned in _pins():
        try:
            if importlib.metadata.version(name) != pinned.split("+")[0]:
                continue
            requires = importlib.metadata.metadata(name)["Requires-Python"]
        except importlib.metadata.PackageNotFoundError:
            continue
        checked += 1
        if requires:
            specifier = SpecifierSet(requires)
            assert specifier.contains("3.11.5"), f"{name}=={pinned} requires Python {requires}"
            if not specifier.contains("3.11.4"):
                refuse_below.append(name)
    if checked < 50:
        pytest.skip(f"only {checked} pins are installed here at their pinned version")
    assert refuse_below, "no pin needs 3.11.5: the floor in run.py is too high"


@posix_only
def test_interpreters_on_path_looks_past_broken_and_old_ones(tmp_path):
    shims, system, good = tmp_path / "shims", tmp_path / "system", tmp_path / "good"
    fake_python(shims, "python3.12", "exit 127")  # a pyenv shim for an unselected version
    fake_python(system, "python3.11", 'echo "3 11 2"')
    fake_python(good, "python3.11", 'echo "3 11 7"')
    path = os.pathsep.join(map(str, [shims, system, good]))
    commands = run.interpreters_on_path(names=("python3.12", "python3.11"), path=path)
    assert commands == [
        [str(shims / "python3.12")],
        [str(system / "python3.11")],
        [str(good / "python3.11")],
    ]
    chosen, found = run.choose_python(commands)
    assert chosen == [str(good / "python3.11")]
    assert [version for _, version in found] == [None, (3, 11, 2), (3, 11, 7)]


@posix_only
def test_no_supported_python_names_what_was_found(tmp_path):
    fake_python(tmp_path, "python3.11", 'echo "3 11 2"')
    fake_python(tmp_path, "python3.13", "exit 127")
    with pytest.raises(SystemExit) as stop:
        run.ensure_supported_python(running=(3, 10, 13), path=str(tmp_path))
    message = str(stop.value)
    assert "needs Python 3.11.5 to 3.13" in message
    assert "This is Python 3.10.13" in message
    assert "python3.11: 3.11.2, too old" in message
    assert "python3.13: does not run" in message


@posix_only
def test_too_old_python_reruns_with_a_supported_one(tmp_path, capfd):
    """The re-run goes through a child process whose exit code comes back."""
    fake_python(
        tmp_path,
        "python3.12",
        f'case "$2" in *version_info*) echo "3 12 1"; exit 0;; esac\nexec "{sys.executable}" "$@"',
    )
    code = run.ensure_supported_python(running=(3, 10, 0), path=str(tmp_path), argv=["--help"])
    out = capfd.readouterr().out
    assert code == 0
    assert "Python 3.10.0 is too old" in out and "(Python 3.12.1)" in out
    assert "usage: run.py" in out
    assert run.ensure_supported_python(running=(3, 12, 0)) is None


def test_run_child_passes_exit_code_and_arguments_through(tmp_path):
    script = "import json, sys; print(json.dumps(sys.argv[1:])); sys.exit(3)"
    out = tmp_path / "argv.json"
    code = run.run_child(
        [sys.executable, "-c", script.replace("print(", f"open({str(out)!r}, 'w').write(")]
        + ["two words", "x"]
    )
    assert code == 3
    assert json.loads(out.read_text()) == ["two words", "x"]


@posix_only
def test_run_child_reports_a_signal_like_the_shell():
    script = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    assert run.run_child([sys.executable, "-c", script]) == 128 + 15


# ----------------------------------------------------------------------------
# Old Pythons and argument errors: before any set-up
# ----------------------------------------------------------------------------


def test_run_py_parses_on_any_python_3():
    """No f-strings or other new syntax: an old Python must reach the version message."""
    import ast

    tree = ast.parse((ROOT / "run.py").read_text())
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)]
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.NamedExpr)]
    assert len((ROOT / "run.py").read_text().splitlines()) <= 200


def _checkout_copy(tmp_path, notebooks=("00_first",)):
    """run.py, coursetools and pyproject in a new folder, with a course of empty notebooks
    and no .venv: what a fresh clone has."""
    import shutil

    import nbformat

    copy = tmp_path / "clone"
    copy.mkdir()
    shutil.copy(ROOT / "run.py", copy)
    shutil.copy(ROOT / "pyproject.toml", copy)
    shutil.copy(ROOT / "constraints.txt", copy)
    shutil.copytree(ROOT / "coursetools", copy / "coursetools")
    (copy / "course").mkdir()
    for name in notebooks:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
        nbformat.write(notebook, copy / "course" / f"{name}.ipynb")
    return copy


@pytest.mark.parametrize(
    "arguments, env, message",
    [
        (["course", "--only", "zz"], {}, "No notebook in"),
        (["course", "--data", "/no/such/folder"], {}, "--data /no/such/folder: no such folder"),
        (["course", "--seed", "1"], {}, "no `SEED = <int>` line in a code cell of 00_first"),
        (["course"], {"KERAS_BACKEND": "theano"}, "KERAS_BACKEND='theano' is not a backend"),
        (["course", "--backend", "mxnet"], {}, "--backend 'mxnet' is not a backend"),
        (["course", "--seed", "one"], {}, "invalid int value: 'one'"),
        (["course", "--seed", "-1"], {}, "--seed -1: a seed must be in 0 .. 2**32 - 1"),
        (["course", "--seed", "0", "4294967296"], {}, "--seed 4294967296: a seed must be in"),
        (["seed-cache", "/no/such/folder"], {}, "/no/such/folder: no such folder"),
        (["frobnicate"], {}, "invalid choice: 'frobnicate'"),
    ],
)
def test_argument_errors_are_reported_before_any_set_up(tmp_path, arguments, env, message):
    """A typo on a fresh clone costs nothing: no .venv is made, pip never runs."""
    import subprocess

    copy = _checkout_copy(tmp_path)
    result = subprocess.run(
        [sys.executable, str(copy / "run.py"), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PIP_NO_INDEX": "1", "LSTMKIT_DATA_MIRROR": "", **env},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert not (copy / ".venv").exists()
    assert "Setting up" not in result.stdout


def test_an_empty_course_is_reported_before_any_set_up(tmp_path):
    import subprocess

    copy = _checkout_copy(tmp_path, notebooks=())
    result = subprocess.run(
        [sys.executable, str(copy / "run.py"), "course"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert f"No notebooks in {copy / 'course'}: nothing to run." in result.stderr
    assert not (copy / ".venv").exists()
