"""The environment run.py sets up (coursetools.environment): what it finds in .venv and
what it decides to do, the Jupyter kernels, and mermaid.js for the site.

Nothing here uses the network or runs pip: the set-up is tested through the small
functions it decides with, on temporary folders, fake interpreters and venvs made
without pip.
"""

import base64
import hashlib
import io
import json
import os
import pathlib
import shutil
import sys
import sysconfig
import tarfile
import venv

import nbformat
import pytest
from fake_programs import fake_python

from coursetools import environment, execute

ROOT = pathlib.Path(__file__).resolve().parents[1]

posix_only = pytest.mark.skipif(os.name == "nt", reason="shell-script interpreters and symlinks")


class _Any:
    def __eq__(self, other):
        return True


ANY = _Any()


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
    probe = environment.probe_venv(_venv_python(bare_venv))
    assert probe["runs"] and tuple(probe["version"]) == tuple(sys.version_info[:3])
    assert probe["pip"] is False and probe["lstmkit"] is None
    actions, reason = environment.plan_setup(
        True, probe, False, list(environment.BACKENDS), root=tmp_path
    )
    assert actions == ["ensurepip", "install", "kernels"]
    assert "no pip" in reason


def test_probe_sees_a_moved_or_copied_checkout(bare_venv, tmp_path):
    old, new = tmp_path / "old-checkout", tmp_path / "new-checkout"
    (old / "lstmkit").mkdir(parents=True)
    (old / "lstmkit" / "__init__.py").write_text("")
    (new / "lstmkit").mkdir(parents=True)
    (_site_packages(bare_venv) / "lstmkit-editable.pth").write_text(f"{old}\n")
    probe = environment.probe_venv(_venv_python(bare_venv))
    assert pathlib.Path(probe["lstmkit"]).parent == old / "lstmkit"
    actions, reason = environment.plan_setup(True, probe, True, [], root=new)
    assert actions == ["recreate", "install", "kernels"]
    assert str(old / "lstmkit") in reason and str(new) in reason and "moved or copied" in reason
    assert environment.plan_setup(True, probe, True, [], root=old) == (
        ["ensurepip", "kernels"],
        ANY,
    )


def test_probe_sees_an_editable_install_whose_source_is_gone(bare_venv, tmp_path):
    site = _site_packages(bare_venv)
    (site / "lstmkit-editable.pth").write_text(f"{tmp_path / 'gone'}\n")
    dist = site / "lstmkit-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lstmkit\nVersion: 0.1.0\n")
    probe = environment.probe_venv(_venv_python(bare_venv))
    assert probe["lstmkit"] is None and probe["lstmkit_dist"] == "0.1.0"
    actions, reason = environment.plan_setup(True, probe, True, [], root=tmp_path)
    assert actions == ["recreate", "install", "kernels"] and "source folder is gone" in reason


@posix_only
def test_a_dangling_venv_python_is_not_trusted_even_with_a_current_marker(bare_venv, tmp_path):
    python = _venv_python(bare_venv)
    for link in python.parent.glob("python*"):
        link.unlink()
    python.symlink_to(tmp_path / "pyenv" / "versions" / "3.11.7" / "bin" / "python3")
    probe = environment.probe_venv(python)
    assert probe == {"runs": False, "error": ANY}
    assert "3.11.7" in probe["error"] and "gone" in probe["error"]
    actions, reason = environment.plan_setup(True, probe, True, [], root=tmp_path)
    assert actions == ["recreate", "install", "kernels"]
    assert "does not run" in reason and "upgraded or removed" in reason


@posix_only
def test_a_venv_python_that_fails_is_not_trusted(tmp_path):
    python = fake_python(tmp_path / "venv" / "bin", "python", "echo broken >&2; exit 1")
    probe = environment.probe_venv(python)
    assert not probe["runs"] and "exit code 1: broken" in probe["error"]


def _PYTHON_OK(version):  # run.py's range
    return (3, 11, 5) <= tuple(version) < (3, 14)


_GOOD = {"runs": True, "version": [3, 12, 1], "pip": True, "lstmkit_dist": "0.1.0"}


@pytest.mark.parametrize(
    "venv_exists, probe, marker_current, missing, expected",
    [
        (False, {}, False, list(environment.BACKENDS), ["create", "install", "kernels"]),
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
    actions, reason = environment.plan_setup(
        venv_exists, probe, marker_current, missing, tmp_path, _PYTHON_OK, "Python 3.11.5 to 3.13"
    )
    assert actions == expected
    assert bool(reason) == bool(actions)


def test_plan_setup_installs_when_lstmkit_is_not_importable(tmp_path):
    probe = dict(_GOOD, lstmkit=None, lstmkit_dist=None)
    assert environment.plan_setup(True, probe, True, [], root=tmp_path)[0] == ["install", "kernels"]


# ----------------------------------------------------------------------------
# The Jupyter kernels
# ----------------------------------------------------------------------------


def _kernel_manager_config():
    from traitlets.config import Config

    return Config(execute.kernel_manager_config())


def test_kernels_are_registered_idempotently_and_run_their_backend(tmp_path, monkeypatch):
    """What `run.py setup` does to .venv, into a temporary prefix: three kernels, and a
    notebook under each reports that kernel's backend, whatever this process's is."""
    from nbclient import NotebookClient

    prefix = tmp_path / "prefix"
    assert environment.kernels_missing(prefix, sys.executable) == list(environment.BACKENDS)
    environment.register_kernels(sys.executable, prefix)
    assert environment.kernels_missing(prefix, sys.executable) == []
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
    assert environment.kernels_missing(prefix, sys.executable) == ["jax"]
    environment.register_kernels(sys.executable, prefix, ["jax"])
    assert environment.kernels_missing(prefix, sys.executable) == []

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
    for backend in environment.BACKENDS:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        NotebookClient(
            nb, kernel_name=f"lstmkit-{backend}", timeout=300, config=_kernel_manager_config()
        ).execute()
        assert nb.cells[0].outputs[-1]["text"].split() == [backend, "2", "0"]


@posix_only
def test_kernels_must_use_the_venv_python_not_the_one_it_links_to(tmp_path):
    base = pathlib.Path(fake_python(tmp_path / "base", "python3", "exit 0"))
    python = tmp_path / "checkout" / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(base)
    (tmp_path / "link-to-checkout").symlink_to(tmp_path / "checkout")
    prefix = tmp_path / "checkout" / ".venv"
    for backend in environment.BACKENDS:
        folder = prefix / "share" / "jupyter" / "kernels" / f"lstmkit-{backend}"
        folder.mkdir(parents=True)
        spec = {
            "argv": [str(base), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": environment.kernel_display_name(backend),
            "env": environment.kernel_env(backend),
        }
        (folder / "kernel.json").write_text(json.dumps(spec))
    assert environment.kernels_missing(prefix, python) == list(environment.BACKENDS)
    for backend in environment.BACKENDS:
        spec_file = prefix / "share" / "jupyter" / "kernels" / f"lstmkit-{backend}" / "kernel.json"
        spec = json.loads(spec_file.read_text())
        spec["argv"][0] = str(tmp_path / "link-to-checkout" / ".venv" / "bin" / "python")
        spec_file.write_text(json.dumps(spec))
    assert (
        environment.kernels_missing(prefix, python) == []
    )  # the same venv, through a linked folder


def test_setup_registered_the_kernels_of_this_venv():
    if pathlib.Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("not running in this checkout's .venv")
    assert environment.kernels_missing(sys.prefix, sys.executable) == []


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
# mermaid.js, for the site's diagrams
# ----------------------------------------------------------------------------


def _npm_tarball(path, files):
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_mermaid_is_unpacked_only_when_the_tarball_has_the_pinned_integrity(tmp_path):
    tarball = _npm_tarball(
        tmp_path / "mermaid.tgz", {"dist/mermaid.min.js": "var mermaid;", "LICENSE": "MIT"}
    )
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    assert environment.npm_integrity(tarball) == integrity
    with pytest.raises(ValueError, match="not the pinned"):
        environment.unpack_mermaid(tarball, tmp_path / "prefix")
    assert environment.mermaid_js(tmp_path / "prefix") is None
    script = environment.unpack_mermaid(tarball, tmp_path / "prefix", integrity=integrity)
    assert script == environment.mermaid_js(tmp_path / "prefix")
    assert script.read_text() == "var mermaid;" and script.with_name("LICENSE").exists()


def test_without_npm_mermaid_is_skipped_with_a_message(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert environment.install_mermaid(tmp_path / "prefix") is None
    assert "No npm found" in capsys.readouterr().out


def test_setup_installed_mermaid_in_this_venv():
    if pathlib.Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("not running in this checkout's .venv")
    script = environment.mermaid_js()
    if script is None and shutil.which("npm") is None:
        pytest.skip("no npm here: the set-up could not fetch mermaid.js (the site shows sources)")
    assert script is not None, "run `python3 run.py setup` (it fetches mermaid with npm)"
    assert script.stat().st_size > 1_000_000


def test_a_venv_linked_to_another_checkout_is_not_recreated_through_the_link(tmp_path):
    other, here = tmp_path / "other-checkout", tmp_path / "this-checkout"
    (other / ".venv").mkdir(parents=True)
    (other / "lstmkit").mkdir()
    here.mkdir()
    (here / ".venv").symlink_to(other / ".venv")
    probe = {"runs": True, "lstmkit": str(other / "lstmkit" / "__init__.py")}
    assert environment.linked_to_another_checkout(here / ".venv", probe, root=here)
    assert not environment.linked_to_another_checkout(other / ".venv", probe, root=other)
    (here / "own-venv").mkdir()
    (here / ".venv").unlink()
    (here / ".venv").symlink_to(here / "own-venv")  # a link to a folder of its own
    own = {"runs": True, "lstmkit": str(here / "lstmkit" / "__init__.py")}
    assert not environment.linked_to_another_checkout(here / ".venv", own, root=here)
