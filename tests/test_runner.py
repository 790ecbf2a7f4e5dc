"""run.py: the Python it accepts, its set-up decisions, the kernels, and the course options.

Nothing here uses the network or runs pip: the set-up is tested through the small
functions run.py decides with, on temporary folders, fake interpreters and venvs
made without pip.
"""

import importlib.metadata
import importlib.util
import json
import os
import pathlib
import re
import sys
import sysconfig
import tomllib
import venv

import nbformat
import pytest
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


def _fake_python(folder, name, body):
    path = pathlib.Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


@posix_only
def test_interpreters_on_path_looks_past_broken_and_old_ones(tmp_path):
    shims, system, good = tmp_path / "shims", tmp_path / "system", tmp_path / "good"
    _fake_python(shims, "python3.12", "exit 127")  # a pyenv shim for an unselected version
    _fake_python(system, "python3.11", 'echo "3 11 2"')
    _fake_python(good, "python3.11", 'echo "3 11 7"')
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
    _fake_python(tmp_path, "python3.11", 'echo "3 11 2"')
    _fake_python(tmp_path, "python3.13", "exit 127")
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
    _fake_python(
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
# The virtual environment: what is found, and what set-up decides
# ----------------------------------------------------------------------------


def _venv_python(folder):
    return pathlib.Path(folder) / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _site_packages(folder):
    return pathlib.Path(
        sysconfig.get_path("purelib", vars={"base": str(folder), "platbase": str(folder)})
    )


@pytest.fixture
def bare_venv(tmp_path):
    """A venv without pip, like one whose creation stopped half-way."""
    folder = tmp_path / "venv"
    venv.create(folder, with_pip=False, symlinks=os.name != "nt")
    return folder


def test_probe_of_a_half_made_venv_plans_pip_install_and_kernels(bare_venv, tmp_path):
    probe = run.probe_venv(_venv_python(bare_venv))
    assert probe["runs"] and tuple(probe["version"]) == tuple(sys.version_info[:3])
    assert probe["pip"] is False and probe["lstmkit"] is None
    actions, reason = run.plan_setup(True, probe, False, list(run.BACKENDS), root=tmp_path)
    assert actions == ["ensurepip", "install", "kernels"]
    assert "no pip" in reason


def test_probe_sees_a_moved_or_copied_checkout(bare_venv, tmp_path):
    old, new = tmp_path / "old-checkout", tmp_path / "new-checkout"
    (old / "lstmkit").mkdir(parents=True)
    (old / "lstmkit" / "__init__.py").write_text("")
    (new / "lstmkit").mkdir(parents=True)
    (_site_packages(bare_venv) / "lstmkit-editable.pth").write_text(f"{old}\n")
    probe = run.probe_venv(_venv_python(bare_venv))
    assert pathlib.Path(probe["lstmkit"]).parent == old / "lstmkit"
    actions, reason = run.plan_setup(True, probe, True, [], root=new)
    assert actions == ["recreate", "install", "kernels"]
    assert str(old / "lstmkit") in reason and str(new) in reason and "moved or copied" in reason
    assert run.plan_setup(True, probe, True, [], root=old) == (["ensurepip", "kernels"], ANY)


def test_probe_sees_an_editable_install_whose_source_is_gone(bare_venv, tmp_path):
    site = _site_packages(bare_venv)
    (site / "lstmkit-editable.pth").write_text(f"{tmp_path / 'gone'}\n")
    dist = site / "lstmkit-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lstmkit\nVersion: 0.1.0\n")
    probe = run.probe_venv(_venv_python(bare_venv))
    assert probe["lstmkit"] is None and probe["lstmkit_dist"] == "0.1.0"
    actions, reason = run.plan_setup(True, probe, True, [], root=tmp_path)
    assert actions == ["recreate", "install", "kernels"] and "source folder is gone" in reason


@posix_only
def test_a_dangling_venv_python_is_not_trusted_even_with_a_current_marker(bare_venv, tmp_path):
    python = _venv_python(bare_venv)
    for link in python.parent.glob("python*"):
        link.unlink()
    python.symlink_to(tmp_path / "pyenv" / "versions" / "3.11.7" / "bin" / "python3")
    probe = run.probe_venv(python)
    assert probe == {"runs": False, "error": ANY}
    assert "3.11.7" in probe["error"] and "gone" in probe["error"]
    actions, reason = run.plan_setup(True, probe, True, [], root=tmp_path)
    assert actions == ["recreate", "install", "kernels"]
    assert "does not run" in reason and "upgraded or removed" in reason


@posix_only
def test_a_venv_python_that_fails_is_not_trusted(tmp_path):
    python = _fake_python(tmp_path / "venv" / "bin", "python", "echo broken >&2; exit 1")
    probe = run.probe_venv(python)
    assert not probe["runs"] and "exit code 1: broken" in probe["error"]


_GOOD = {"runs": True, "version": [3, 12, 1], "pip": True, "lstmkit_dist": "0.1.0"}


@pytest.mark.parametrize(
    "venv_exists, probe, marker_current, missing, expected",
    [
        (False, {}, False, list(run.BACKENDS), ["create", "install", "kernels"]),
        (True, {"runs": False, "error": "x"}, True, [], ["recreate", "install", "kernels"]),
        (True, dict(_GOOD, version=[3, 10, 13]), True, [], ["recreate", "install", "kernels"]),
        (True, _GOOD, False, [], ["install", "kernels"]),
        (True, dict(_GOOD, pip=False), True, [], ["ensurepip", "kernels"]),
        (True, _GOOD, True, ["jax"], ["kernels"]),  # a current marker, kernels missing
        (True, _GOOD, True, [], []),
    ],
)
def test_plan_setup(tmp_path, venv_exists, probe, marker_current, missing, expected):
    if probe.get("runs"):
        probe = dict(probe, lstmkit=str(tmp_path / "lstmkit" / "__init__.py"))
    actions, reason = run.plan_setup(venv_exists, probe, marker_current, missing, root=tmp_path)
    assert actions == expected
    assert bool(reason) == bool(actions)


def test_plan_setup_installs_when_lstmkit_is_not_importable(tmp_path):
    probe = dict(_GOOD, lstmkit=None, lstmkit_dist=None)
    assert run.plan_setup(True, probe, True, [], root=tmp_path)[0] == ["install", "kernels"]


# ----------------------------------------------------------------------------
# The Jupyter kernels
# ----------------------------------------------------------------------------


def _kernel_manager_config():
    from traitlets.config import Config

    return Config(run.kernel_manager_config())


def test_kernels_are_registered_idempotently_and_run_their_backend(tmp_path, monkeypatch):
    """What `run.py setup` does to .venv, into a temporary prefix: three kernels, and a
    notebook under each reports that kernel's backend, whatever this process's is."""
    from nbclient import NotebookClient

    prefix = tmp_path / "prefix"
    assert run.kernels_missing(prefix, sys.executable) == list(run.BACKENDS)
    run.register_kernels(sys.executable, prefix)
    assert run.kernels_missing(prefix, sys.executable) == []
    spec_file = prefix / "share" / "jupyter" / "kernels" / "lstmkit-jax" / "kernel.json"
    spec = json.loads(spec_file.read_text())
    assert spec["display_name"] == "Python 3 (lstmkit, JAX)"
    assert spec["env"] == {
        "KERAS_BACKEND": "jax",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_ENABLE_ONEDNN_OPTS": "0",
    }
    # A changed environment is noticed and repaired; the others are left alone.
    spec["env"]["KERAS_BACKEND"] = "torch"
    spec_file.write_text(json.dumps(spec))
    assert run.kernels_missing(prefix, sys.executable) == ["jax"]
    run.register_kernels(sys.executable, prefix, ["jax"])
    assert run.kernels_missing(prefix, sys.executable) == []

    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    # The kernel's own environment must win over the one it is started from.
    monkeypatch.setenv("KERAS_BACKEND", "not-a-backend")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    code = (
        "import os, keras\n"
        "print(keras.backend.backend(), os.environ['TF_CPP_MIN_LOG_LEVEL'],"
        " os.environ['TF_ENABLE_ONEDNN_OPTS'])"
    )
    for backend in run.BACKENDS:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        NotebookClient(
            nb, kernel_name=f"lstmkit-{backend}", timeout=300, config=_kernel_manager_config()
        ).execute()
        assert nb.cells[0].outputs[-1]["text"].split() == [backend, "2", "0"]


@posix_only
def test_kernels_must_use_the_venv_python_not_the_one_it_links_to(tmp_path):
    base = pathlib.Path(_fake_python(tmp_path / "base", "python3", "exit 0"))
    python = tmp_path / "checkout" / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(base)
    (tmp_path / "link-to-checkout").symlink_to(tmp_path / "checkout")
    prefix = tmp_path / "checkout" / ".venv"
    for backend in run.BACKENDS:
        folder = prefix / "share" / "jupyter" / "kernels" / f"lstmkit-{backend}"
        folder.mkdir(parents=True)
        spec = {
            "argv": [str(base), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": run.kernel_display_name(backend),
            "env": run.kernel_env(backend),
        }
        (folder / "kernel.json").write_text(json.dumps(spec))
    assert run.kernels_missing(prefix, python) == list(run.BACKENDS)
    for backend in run.BACKENDS:
        spec_file = prefix / "share" / "jupyter" / "kernels" / f"lstmkit-{backend}" / "kernel.json"
        spec = json.loads(spec_file.read_text())
        spec["argv"][0] = str(tmp_path / "link-to-checkout" / ".venv" / "bin" / "python")
        spec_file.write_text(json.dumps(spec))
    assert run.kernels_missing(prefix, python) == []  # the same venv, through a linked folder


def test_setup_registered_the_kernels_of_this_venv():
    if pathlib.Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("not running in this checkout's .venv")
    assert run.kernels_missing(sys.prefix, sys.executable) == []


def test_kernel_runs_without_the_tcp_warning(capfd):
    """ipykernel warns "Kernel is running over TCP without encryption" into the runner's
    console unless the manager provisions CurveZMQ keys (or uses IPC)."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    NotebookClient(
        nb, kernel_name="python3", timeout=120, config=_kernel_manager_config()
    ).execute()
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    err = capfd.readouterr().err
    assert "TCP" not in err and "without encryption" not in err


# ----------------------------------------------------------------------------
# The course options: --seed, summaries, the table and the index page
# ----------------------------------------------------------------------------


def _notebook(cells, title="# 98 · A probe", subtitle="One line about it, with `code`."):
    markdown = nbformat.v4.new_markdown_cell(f"{title}\n\n{subtitle}\n\n**More**\n\n- a list")
    return nbformat.v4.new_notebook(
        cells=[markdown] + [nbformat.v4.new_code_cell(c) for c in cells]
    )


def test_set_seed_replaces_only_the_seed_line():
    nb = _notebook(
        [
            "import keras\nSEED = 42  # every random draw follows it\n"
            "keras.utils.set_random_seed(SEED)",
            "SEED_OFFSET = 3\nRESEED = 7\nprint(SEED)",
        ]
    )
    nb.cells.append(nbformat.v4.new_markdown_cell("SEED = 5 in prose stays"))
    assert run.set_seed(nb, 2) == 1
    assert nb.cells[1].source.splitlines()[1] == "SEED = 2  # every random draw follows it"
    assert nb.cells[2].source == "SEED_OFFSET = 3\nRESEED = 7\nprint(SEED)"
    assert nb.cells[3].source == "SEED = 5 in prose stays"


def test_notebooks_without_seed_are_named(tmp_path):
    nbformat.write(_notebook(["SEED = 0"]), tmp_path / "01_with.ipynb")
    nbformat.write(_notebook(["keras.utils.set_random_seed(0)"]), tmp_path / "02_without.ipynb")
    paths = sorted(tmp_path.glob("*.ipynb"))
    assert run.notebooks_without_seed(paths) == ["02_without.ipynb"]


def test_course_refuses_a_seed_that_a_notebook_cannot_take(tmp_path, monkeypatch):
    nbformat.write(_notebook(["print(1)"]), tmp_path / "02_without.ipynb")
    monkeypatch.setattr(run, "notebooks", lambda only=None: [tmp_path / "02_without.ipynb"])
    args = run.parser().parse_args(["course", "--seed", "1", "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as stop:
        run.run_course(args)
    assert "--seed 1" in str(stop.value) and "02_without.ipynb" in str(stop.value)
    assert not (tmp_path / "out").exists()


def test_course_options_parse():
    args = run.parser().parse_args(
        ["course", "--backend", "all", "--data", "d", "--seed", "2", "--out", "o", "--only", "00"]
    )
    assert (args.backend, args.data, args.seed, args.out, args.only) == ("all", "d", 2, "o", ["00"])
    with pytest.raises(SystemExit):
        run.parser().parse_args(["course", "--seed", "one"])


def test_course_names_a_missing_data_folder(tmp_path):
    args = run.parser().parse_args(["course", "--data", str(tmp_path / "nope")])
    with pytest.raises(SystemExit) as stop:
        run.run_course(args)
    assert "--data" in str(stop.value) and "no such folder" in str(stop.value)


def test_notebook_heading_is_the_h1_and_the_paragraph_after_it(tmp_path):
    nbformat.write(_notebook(["1"]), tmp_path / "98_probe.ipynb")
    assert run.notebook_heading(tmp_path / "98_probe.ipynb") == (
        "98 · A probe",
        "One line about it, with `code`.",
    )
    title, subtitle = run.notebook_heading(ROOT / "course" / "00_setup_and_backends.ipynb")
    assert title.startswith("00 · ") and subtitle and "\n" not in subtitle


def _row(notebook, backend, passed=True, seconds=10.0, figures=None, units=None, seed=None):
    return {
        "notebook": notebook,
        "backend": backend,
        "seconds": seconds,
        "passed": passed,
        "error": "" if passed else "AssertionError: loss 0.3 > 0.2",
        "seed": seed,
        "figures": figures or {},
        "units": units or {},
    }


@pytest.fixture
def course_on_disk(tmp_path):
    """Two notebooks; TensorFlow ran both (one failed), JAX one, PyTorch nothing."""
    out = tmp_path / "build"
    for backend in ("tensorflow", "jax"):
        (out / backend).mkdir(parents=True)
    run.update_summary(
        out / "tensorflow", _row("01_a", "tensorflow", figures={"mse": 0.0123456, "n": 3})
    )
    run.update_summary(
        out / "tensorflow",
        _row("02_b", "tensorflow", passed=False, figures={"acc": 81.5}, units={"acc": "%"}),
    )
    run.update_summary(out / "jax", _row("01_a", "jax", seconds=7.25, figures={"mse": 0.012}))
    (out / "tensorflow" / "01_a.html").write_text("<html></html>")
    (out / "jax" / "01_a.html").write_text("<html></html>")
    return out


def test_update_summary_keeps_the_other_notebooks(course_on_disk):
    backend_dir = course_on_disk / "tensorflow"
    run.update_summary(backend_dir, _row("01_a", "tensorflow", seconds=99.0))
    rows = run.read_summary(backend_dir)
    assert sorted(rows) == ["01_a", "02_b"] and rows["01_a"]["seconds"] == 99.0


def test_comparison_table_has_a_column_per_backend(course_on_disk):
    summaries = run.load_summaries(course_on_disk)
    lines = run.comparison_table(["01_a", "02_b"], summaries, run.BACKENDS)
    assert lines[0] == "| notebook | quantity | tensorflow | jax | torch |"
    assert "| 01_a | passed | yes | yes | - |" in lines
    assert "|  | seconds | 10.0 | 7.2 | - |" in lines or "|  | seconds | 10.0 | 7.3 | - |" in lines
    assert "|  | mse | 0.01235 | 0.012 | - |" in lines
    assert "|  | n | 3 | - | - |" in lines
    assert "| 02_b | passed | NO | - | - |" in lines
    assert "|  | acc | 81.5% | - | - |" in lines
    assert not any("seed" in line for line in lines)  # no seed was set


def test_comparison_table_shows_the_seed(tmp_path):
    run.update_summary(tmp_path, _row("01_a", "jax", seed=2))
    lines = run.comparison_table(["01_a"], {"jax": run.read_summary(tmp_path)}, ["jax"])
    assert "|  | seed | 2 |" in lines


def test_index_page_merges_what_is_on_disk_and_marks_what_is_missing(course_on_disk, tmp_path):
    entries = [
        ("01_a", "01 · First", "The first, with `code`."),
        ("02_b", "02 · Second", "The second."),
        ("03_c", "03 · Third", "Never run."),
    ]
    page = run.index_html(entries, run.load_summaries(course_on_disk), course_on_disk)
    assert page.index("01 · First") < page.index("02 · Second") < page.index("03 · Third")
    assert "The first, with <code>code</code>." in page
    assert 'href="tensorflow/01_a.html"' in page and 'href="jax/01_a.html"' in page
    assert 'href="torch/01_a.html"' not in page and 'href="tensorflow/02_b.html"' not in page
    assert page.count("✓ passed") == 2 and page.count("✗ failed") == 1
    # 01_a on torch, 02_b on JAX and torch, 03_c on all three
    assert page.count('<span class="none">not run</span>') == 6
    assert "no HTML" in page  # 02_b ran on TensorFlow but its HTML is gone
    assert "AssertionError: loss 0.3 &gt; 0.2" in page
    assert "81.5%" in page and "0.01235" in page
    assert "3 backends: 2 passed,\n1 failed, 6 not run" in page
    assert "1 of 2 passed" in page and "1 of 1 passed" in page and "0 of 0 passed" in page
    for tag in ("table", "tr", "td", "div"):
        assert page.count(f"<{tag}") == page.count(f"</{tag}>"), tag


def test_write_index_lists_course_notebooks_in_order(course_on_disk, tmp_path):
    folder = tmp_path / "course"
    folder.mkdir()
    for name in ("02_b", "01_a"):
        nbformat.write(_notebook(["1"], title=f"# {name} title"), folder / f"{name}.ipynb")
    page = run.write_index(course_on_disk, folder=folder).read_text()
    assert page.index("01_a title") < page.index("02_b title")


def test_run_backend_with_a_seed_records_it_and_the_figures(tmp_path, restore_environ):
    """One notebook through the runner's own loop: seed substituted, figures collected,
    summary, executed notebook, HTML and index written."""
    backend = os.environ.get("KERAS_BACKEND") or "tensorflow"
    folder = tmp_path / "course"
    folder.mkdir()
    code = (
        "import os\n\nSEED = 0\nfrom lstmkit.report import record\n\n"
        "record('answer', SEED * 2)\nrecord('share', 12.5, '%')\nprint(os.environ['KERAS_BACKEND'])"
    )
    nbformat.write(_notebook([code]), folder / "98_probe.ipynb")
    out = tmp_path / "out"
    rows = run.run_backend(backend, [folder / "98_probe.ipynb"], out, seed=21, cell_timeout=300)
    assert rows[0]["passed"], rows[0]["error"]
    summary = run.read_summary(out / backend)["98_probe"]
    assert summary["seed"] == 21 and summary["figures"] == {"answer": 42.0, "share": 12.5}
    assert summary["units"] == {"share": "%"}
    executed = nbformat.read(out / backend / "98_probe.ipynb", as_version=4)
    assert "SEED = 21" in executed.cells[1].source
    assert executed.cells[1].outputs[-1]["text"].strip().endswith(backend)
    assert (out / backend / "98_probe.html").exists()
    page = run.write_index(out, folder=folder).read_text()
    assert f'href="{backend}/98_probe.html"' in page and "seed 21" in page and ">42<" in page
