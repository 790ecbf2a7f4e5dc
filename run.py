#!/usr/bin/env python3
"""Set up, run and test the lstmkit course. Needs Python 3.11.5 to 3.13 to start.

    python3 run.py course     # set up .venv if needed, execute every notebook, print the table
    python3 run.py test       # set up .venv if needed, lint, then the whole suite on all 3 backends

Other commands:
    python3 run.py setup                 # only create/update .venv and its three Jupyter kernels
    python3 run.py seed-cache FOLDER     # copy dataset files from FOLDER into the Keras cache
    python3 run.py course --backend jax --only 00 03
    python3 run.py course --backend all --data ../shared/data   # offline, every backend
    python3 run.py course --seed 1 --out build/seed-1           # every notebook with SEED = 1

`course` writes the executed notebooks (.ipynb and .html) to build/course/<backend>/ and
an index of everything on disk there to build/course/index.html.

Python: 3.11.5 is the floor of the pinned stack (soupsieve 4.1.2 requires >= 3.11.5;
keras 3.15.1, numpy 2.4.6, jax 0.10.2, scipy 1.17.1 and others >= 3.11), and 3.14 is
past its ceiling (tensorflow-cpu 2.21.0 and h5py 3.14.0 have no 3.14 wheels). If the
Python running this file is outside that range, run.py runs itself again with the first
python3.13, python3.12 or python3.11 on PATH that is inside it.

The virtual environment is .venv next to this file; it is (re)installed whenever
pyproject.toml or constraints.txt changed, with the exact versions in constraints.txt,
and rebuilt when its interpreter no longer runs or the checkout was moved. Everything
up to the re-run inside .venv uses only the standard library (and parses on old Pythons,
so that they get a message rather than a SyntaxError).
"""

import argparse
import datetime
import hashlib
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
MARKER = VENV / ".lstmkit-installed"
BACKENDS = ("tensorflow", "jax", "torch")
BACKEND_LABELS = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
FIGURES_ENV_NAME = "LSTMKIT_FIGURES"  # lstmkit.report.FIGURES_ENV; unset for tests
DATA_MIRROR_ENV = "LSTMKIT_DATA_MIRROR"  # as tests/conftest.py
QUIET_TF = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}
DEFAULT_OUT = ROOT / "build" / "course"

# The pinned stack's range: see the docstring. MAX_PYTHON is the first version outside.
MIN_PYTHON = (3, 11, 5)
MAX_PYTHON = (3, 14)
PYTHON_NAMES = ("python3.13", "python3.12", "python3.11", "python3", "python")
RERUN_ENV = "LSTMKIT_RUN_PY_RERUN"  # set in the re-run, so that it can never loop


# ----------------------------------------------------------------------------
# Which Python runs the set-up
# ----------------------------------------------------------------------------


def version_text(version):
    return ".".join(str(part) for part in version)


def python_supported(version):
    """Whether `version` (a tuple like `sys.version_info`) can install the pinned stack."""
    return MIN_PYTHON <= tuple(version[:3]) < MAX_PYTHON


SUPPORTED_TEXT = f"Python {version_text(MIN_PYTHON)} to {MAX_PYTHON[0]}.{MAX_PYTHON[1] - 1}"


def probe_python(command, timeout=30):
    """The version tuple an interpreter reports, or None if it does not run.

    Args:
        command: The interpreter as a list, e.g. `["/usr/bin/python3.12"]` or `["py", "-3.12"]`.
    """
    try:
        result = subprocess.run(
            [*command, "-c", "import sys; print(*sys.version_info[:3])"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    parts = result.stdout.split()
    if result.returncode != 0 or len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None  # e.g. a pyenv shim for a version that is not selected (exit 127)
    return tuple(int(p) for p in parts)


def interpreters_on_path(names=PYTHON_NAMES, path=None):
    """Every executable called one of `names` on PATH, in PATH order per name, as commands.

    Unlike `shutil.which`, looks past the first hit: a broken shim or an old python3.11
    early on PATH must not hide a good one later.
    """
    path = os.environ.get("PATH", "") if path is None else path
    extensions = os.environ.get("PATHEXT", ".EXE").split(os.pathsep) if os.name == "nt" else [""]
    commands, seen = [], set()
    for name in names:
        for folder in path.split(os.pathsep):
            for extension in extensions:
                candidate = os.path.join(folder, name + extension)
                if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                    key = os.path.normcase(os.path.realpath(candidate))  # /bin -> /usr/bin
                    if key not in seen:
                        seen.add(key)
                        commands.append([candidate])
    if os.name == "nt" and shutil.which("py"):  # the Windows launcher knows installed versions
        for minor in range(MAX_PYTHON[1] - 1, MIN_PYTHON[1] - 1, -1):
            commands.append(["py", f"-3.{minor}"])
    return commands


def choose_python(commands, probe=probe_python):
    """The first command whose Python is supported, and what every command reported.

    Returns:
        `(command or None, [(command, version or None), ...])`.
    """
    found = []
    for command in commands:
        version = probe(command)
        found.append((command, version))
        if version and python_supported(version):
            return command, found
    return None, found


def unsupported_python_message(running, executable, found):
    lines = [
        f"lstmkit needs {SUPPORTED_TEXT}: the pinned stack in constraints.txt does not",
        "install elsewhere (soupsieve 4.1.2 needs >= 3.11.5; keras 3.15, numpy 2.4, jax 0.10",
        "and scipy 1.17 need >= 3.11; tensorflow-cpu 2.21 and h5py 3.14 have no 3.14 wheels).",
        f"This is Python {version_text(running)} ({executable}).",
    ]
    if found:
        lines.append("Interpreters found on PATH:")
        for command, version in found:
            shown = version_text(version) if version else "does not run"
            verdict = ""
            if version and not python_supported(version):
                verdict = ", too old" if tuple(version) < MIN_PYTHON else ", too new"
            lines.append(f"  {' '.join(command)}: {shown}{verdict}")
    else:
        lines.append("No other python3.x was found on PATH.")
    lines.append(
        "Install Python 3.12 (python.org, your package manager, pyenv or uv), then run"
        " `python3.12 run.py ...`."
    )
    return "\n".join(lines)


def run_child(command, env=None, cwd=None):
    """Runs `command` to the end and returns its exit code (for sys.exit).

    Used instead of os.execv, which on Windows returns to the shell at once with exit
    code 0 and splits arguments at spaces (cpython #101191). Ctrl-C reaches the child
    too (same console); we wait for it to stop rather than leave it orphaned.
    """
    process = subprocess.Popen([str(part) for part in command], env=env, cwd=cwd)
    while True:
        try:
            code = process.wait()
            break
        except KeyboardInterrupt:
            continue
    return 128 - code if code < 0 else code  # killed by a signal: the shell's convention


def ensure_supported_python(running=None, path=None, argv=None):
    """Returns None when this Python will do; otherwise re-runs run.py with one that does
    and returns its exit code, or exits with a message naming what was found.

    Args:
        running: The version to judge (default: this interpreter's).
        path: The PATH to search (default: $PATH).
        argv: The arguments for the re-run (default: this run's).
    """
    running = tuple((running or sys.version_info)[:3])
    if python_supported(running):
        return None
    if os.environ.get(RERUN_ENV):
        sys.exit(f"run.py was re-run with Python {version_text(running)}: unsupported.")
    command, found = choose_python(interpreters_on_path(path=path))
    if command is None:
        sys.exit(unsupported_python_message(running, sys.executable, found))
    version = dict((tuple(c), v) for c, v in found)[tuple(command)]
    print(
        f"run.py: Python {version_text(running)} is too "
        f"{'old' if running < MIN_PYTHON else 'new'} for the pinned stack; "
        f"using {' '.join(command)} (Python {version_text(version)}).",
        flush=True,
    )
    env = dict(os.environ)
    env[RERUN_ENV] = "1"
    argv = sys.argv[1:] if argv is None else argv
    return run_child([*command, str(ROOT / "run.py"), *argv], env=env)


# ----------------------------------------------------------------------------
# The virtual environment
# ----------------------------------------------------------------------------

# Runs inside .venv's interpreter, isolated (-I: no cwd, no PYTHONPATH on sys.path), so
# that `lstmkit` is found only through what is installed in .venv.
VENV_PROBE = """
import importlib.util, json, sys
try:
    import importlib.metadata
    dist = importlib.metadata.version("lstmkit")
except Exception:
    dist = None
spec = importlib.util.find_spec("lstmkit")
print(json.dumps({
    "version": list(sys.version_info[:3]),
    "pip": importlib.util.find_spec("pip") is not None,
    "lstmkit": spec.origin if spec else None,
    "lstmkit_dist": dist,
}))
"""


def probe_venv(python, timeout=120):
    """What a virtual environment's interpreter says about itself.

    Returns:
        `{"runs": True, "version": [3, 12, 1], "pip": bool, "lstmkit": path or None,
        "lstmkit_dist": version or None}`, or `{"runs": False, "error": why}`.
    """
    python = Path(python)
    if not python.exists():
        if os.path.islink(python):
            return {"runs": False, "error": f"it links to {os.readlink(python)}, which is gone"}
        return {"runs": False, "error": "it does not exist"}
    try:
        result = subprocess.run(
            [str(python), "-I", "-c", VENV_PROBE],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tempfile.gettempdir(),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return {"runs": False, "error": f"{type(exc).__name__}: {exc}"}
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        return {"runs": False, "error": f"exit code {result.returncode}: {last}"}
    try:
        probe = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"runs": False, "error": f"unexpected output {result.stdout[:200]!r}"}
    probe["runs"] = True
    return probe


def _within(path, folder):
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False


def plan_setup(venv_exists, probe, marker_current, kernels_missing, root=ROOT):
    """Decides what the set-up must do, from what was found; does nothing itself.

    Args:
        venv_exists: Whether the .venv folder exists.
        probe: `probe_venv(.venv's python)`, when it exists.
        marker_current: Whether the install marker holds the current fingerprint.
        kernels_missing: Backends whose Jupyter kernel is absent or out of date.
        root: The checkout.

    Returns:
        `(actions, reason)`: actions in order, from "create", "recreate", "ensurepip",
        "install", "kernels"; reason says why, for the console ("" when nothing to do).
    """
    rebuild = ["recreate", "install", "kernels"]
    if not venv_exists:
        return ["create", "install", "kernels"], "there is no .venv yet"
    if not probe.get("runs"):
        return rebuild, (
            f".venv's Python does not run ({probe.get('error')}); was the Python it was "
            "made with upgraded or removed?"
        )
    version = tuple(probe["version"])
    if not python_supported(version):
        return (
            rebuild,
            f".venv was made with Python {version_text(version)}; {SUPPORTED_TEXT} needed",
        )
    origin = probe.get("lstmkit")
    if origin and not _within(origin, Path(root) / "lstmkit"):
        return rebuild, (
            f".venv imports lstmkit from {Path(origin).parent}, not from this checkout "
            f"({root}): the checkout was moved or copied, and .venv's scripts and "
            "editable install still point at the old place"
        )
    if not origin and probe.get("lstmkit_dist"):
        return rebuild, (
            "lstmkit is installed in .venv but its source folder is gone: the checkout "
            "was moved, and .venv's scripts and editable install still point at the old place"
        )
    actions, reasons = [], []
    if not probe.get("pip"):
        actions.append("ensurepip")
        reasons.append(".venv has no pip (a half-made environment)")
    if not marker_current or not origin:
        actions.append("install")
        reasons.append(
            "lstmkit is not installed in .venv" if not origin else "the pinned stack changed"
        )
    if actions or kernels_missing:
        actions.append("kernels")
        if not reasons:
            reasons.append(f"Jupyter kernels missing or outdated: {', '.join(kernels_missing)}")
    return actions, "; ".join(reasons)


def _install_fingerprint():
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def kernel_name(backend):
    return f"lstmkit-{backend}"


def kernel_display_name(backend):
    return f"Python 3 (lstmkit, {BACKEND_LABELS[backend]})"


def kernel_env(backend):
    return dict(KERAS_BACKEND=backend, **QUIET_TF)


def _interpreter_key(python):
    """A venv's python is a link to the base one: resolve its folder, not the file itself."""
    python = os.path.abspath(str(python))
    folder = os.path.realpath(os.path.dirname(python))
    return os.path.normcase(os.path.join(folder, os.path.basename(python)))


def kernels_missing(prefix, python):
    """The backends whose kernel under `prefix` is absent or not what `register_kernels`
    writes for `python` (name, display name, environment, interpreter)."""
    missing = []
    for backend in BACKENDS:
        spec_file = Path(prefix, "share", "jupyter", "kernels", kernel_name(backend), "kernel.json")
        try:
            spec = json.loads(spec_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            missing.append(backend)
            continue
        argv = spec.get("argv") or [""]
        if (
            spec.get("display_name") != kernel_display_name(backend)
            or spec.get("env") != kernel_env(backend)
            or _interpreter_key(argv[0]) != _interpreter_key(python)
        ):
            missing.append(backend)
    return missing


def register_kernels(python, prefix, backends=BACKENDS):
    """Installs a Jupyter kernel per backend into `prefix` with ipykernel, replacing any
    of the same name. Raises `subprocess.CalledProcessError` (with the output) on failure."""
    for backend in backends:
        command = [
            str(python),
            "-m",
            "ipykernel",
            "install",
            "--prefix",
            str(prefix),
            "--name",
            kernel_name(backend),
            "--display-name",
            kernel_display_name(backend),
        ]
        for key, value in kernel_env(backend).items():
            command += ["--env", key, value]
        subprocess.run(
            command,
            check=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def _setup_failed(what, exc):
    output = getattr(exc, "output", None) or ""
    sys.exit(
        f"{output}\n{what} failed ({exc}).\nFix the cause shown above and run "
        "`python3 run.py setup` again; to start from scratch, delete .venv first."
    )


def ensure_environment():
    """Creates, repairs or updates .venv and its kernels, as `plan_setup` decides."""
    fingerprint = _install_fingerprint()
    marker_current = MARKER.exists() and MARKER.read_text() == fingerprint
    if in_venv():  # the re-run (or .venv/bin/python run.py): the outside run checked the rest
        probe = {"runs": True, "version": list(sys.version_info[:3]), "pip": True}
        probe["lstmkit"] = str(ROOT / "lstmkit" / "__init__.py")
        python = Path(sys.executable)
    else:
        probe = probe_venv(VENV_PYTHON) if VENV.exists() else {}
        python = VENV_PYTHON
    missing = kernels_missing(VENV, python) if probe.get("runs") else list(BACKENDS)
    actions, reason = plan_setup(VENV.exists(), probe, marker_current, missing)
    if not actions:
        return
    print(f"Setting up {VENV}: {reason}{'' if reason.endswith('?') else '.'}", flush=True)
    if "create" in actions or "recreate" in actions:
        print(f"Creating the virtual environment with Python {sys.version.split()[0]} ...")
        # venv refuses a symlinked folder; a .venv linked to another disk is rebuilt there.
        command = [sys.executable, "-m", "venv", str(VENV.resolve())]
        if "recreate" in actions:
            command.insert(3, "--clear")
        if subprocess.run(command).returncode != 0:
            hint = ""
            if importlib.util.find_spec("ensurepip") is None:
                version = f"{sys.version_info[0]}.{sys.version_info[1]}"
                hint = f" This Python has no ensurepip: `sudo apt install python{version}-venv`."
            sys.exit(f"Could not create {VENV} (see above).{hint}")
    if "ensurepip" in actions:
        print("Installing pip into .venv ...", flush=True)
        if subprocess.run([str(VENV_PYTHON), "-m", "ensurepip", "--upgrade"]).returncode != 0:
            sys.exit(
                f"{VENV} has no pip and its Python cannot make one (no ensurepip). Delete "
                f"{VENV} and run again; on Debian/Ubuntu first `sudo apt install "
                f"python{sys.version_info[0]}.{sys.version_info[1]}-venv`."
            )
    if "install" in actions:
        print(
            "Installing lstmkit with TensorFlow, JAX and PyTorch (pinned in constraints.txt) ...",
            flush=True,
        )
        pip = [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check"]
        try:
            subprocess.run(pip + ["--upgrade", "pip"], check=True, stdout=subprocess.DEVNULL)
            subprocess.run(
                pip + ["-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[all,dev]"], check=True
            )
        except subprocess.CalledProcessError as exc:
            _setup_failed("Installing into .venv", exc)
        MARKER.write_text(fingerprint)
    if "kernels" in actions:
        missing = kernels_missing(VENV, python)
        if missing:
            try:
                register_kernels(python, VENV, missing)
            except subprocess.CalledProcessError as exc:
                _setup_failed("Registering the Jupyter kernels", exc)
        names = ", ".join(kernel_name(b) for b in BACKENDS)
        print(f"Jupyter kernels {names} in {VENV / 'share' / 'jupyter' / 'kernels'}", flush=True)


def in_venv():
    return Path(sys.prefix).resolve() == VENV.resolve()


def run_in_venv():
    """Sets up .venv; returns None inside it, else re-runs run.py there and returns its code."""
    ensure_environment()
    if in_venv():
        return None
    return run_child([VENV_PYTHON, ROOT / "run.py", *sys.argv[1:]])


# ----------------------------------------------------------------------------
# The course: notebooks, seeds, execution
# ----------------------------------------------------------------------------


def notebooks(only=None, folder=None):
    paths = sorted(Path(folder or ROOT / "course").glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.name.startswith(prefix) for prefix in only)]
    return paths


SEED_LINE = re.compile(r"^(?P<head>[ \t]*SEED[ \t]*=[ \t]*)\d+\b", re.MULTILINE)


def set_seed(nb, seed):
    """Replaces every `SEED = <int>` line in the code cells of `nb` (in place) by
    `SEED = seed`; returns how many lines were replaced."""
    count = 0
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            cell["source"], replaced = SEED_LINE.subn(rf"\g<head>{int(seed)}", source)
            count += replaced
    return count


def notebooks_without_seed(paths):
    """The notebooks among `paths` with no `SEED = <int>` line in a code cell."""
    missing = []
    for path in paths:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        if not set_seed(nb, 0):
            missing.append(Path(path).name)
    return missing


def notebook_heading(path):
    """`(title, subtitle)` of a notebook: its H1 and the first paragraph after it."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
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


def kernel_manager_config():
    """Kernel-manager settings that keep ipykernel's "Kernel is running over TCP without
    encryption" warning out of the console by doing what it asks: CurveZMQ keys from the
    manager (ipykernel's kernelspec declares `supported_encryption: curve`), else IPC."""
    import zmq

    if zmq.has("curve"):
        return {"KernelManager": {"transport_encryption": "auto"}}
    if os.name != "nt":
        return {"KernelManager": {"transport": "ipc"}}
    return {}


def execute_notebook(nb, cwd, timeout, kernel_name="python3"):
    """Executes `nb` in place; returns `(seconds, error)` with error "" when it passed."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from traitlets.config import Config

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(cwd)}},
        config=Config(kernel_manager_config()),
    )
    start = time.perf_counter()
    error = ""
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else "error"
    except Exception as exc:  # a dead kernel, a timeout
        error = f"{type(exc).__name__}: {exc}"[:200]
    return time.perf_counter() - start, error


def read_summary(backend_dir):
    """The rows of `<backend_dir>/summary.json` by notebook, or {} when there is none."""
    try:
        rows = json.loads((Path(backend_dir) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {row["notebook"]: row for row in rows if isinstance(row, dict) and "notebook" in row}


def update_summary(backend_dir, row):
    """Writes `row` into `<backend_dir>/summary.json`, keeping the other notebooks' rows."""
    rows = read_summary(backend_dir)
    rows[row["notebook"]] = row
    (Path(backend_dir) / "summary.json").write_text(
        json.dumps([rows[name] for name in sorted(rows)], indent=1), encoding="utf-8"
    )


def run_backend(backend, paths, out, seed=None, cell_timeout=900, data=None):
    """Executes `paths` on one backend in turn into `out/<backend>`; returns the rows."""
    os.environ["KERAS_BACKEND"] = backend
    for key, value in QUIET_TF.items():
        os.environ.setdefault(key, value)

    import nbformat
    from nbconvert import HTMLExporter

    from lstmkit.report import read

    if data:
        from lstmkit import datasets

        copied = datasets.seed_cache(data)
        print(f"Seeded {len(copied)} dataset files from {data} into {datasets.cache_dir()}")

    backend_dir = Path(out) / backend
    backend_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if seed is not None:
            set_seed(nb, seed)
        figures_file = backend_dir / f"{path.stem}.figures.jsonl"
        if figures_file.exists():
            figures_file.unlink()
        os.environ[FIGURES_ENV_NAME] = str(figures_file)
        seconds, error = execute_notebook(nb, path.parent, cell_timeout)
        # nbformat requires a kernelspec's display_name; a notebook stripped without
        # one would otherwise stop the whole run at the export.
        kernelspec = nb.metadata.get("kernelspec")
        if kernelspec is not None and "display_name" not in kernelspec:
            kernelspec["display_name"] = kernelspec.get("name", "python3")
        nbformat.write(nb, backend_dir / path.name)
        html_text, _ = HTMLExporter().from_notebook_node(nb)
        (backend_dir / f"{path.stem}.html").write_text(html_text, encoding="utf-8")
        figures = read(figures_file)
        row = {
            "notebook": path.stem,
            "backend": backend,
            "seconds": round(seconds, 1),
            "passed": not error,
            "error": error,
            "seed": seed,
            "finished": datetime.datetime.now().isoformat(timespec="seconds"),
            "figures": {name: value for name, (value, _) in figures.items()},
            "units": {name: unit for name, (_, unit) in figures.items() if unit},
        }
        update_summary(backend_dir, row)
        rows.append(row)
        status = "passed" if not error else f"FAILED: {error}"
        print(f"{path.stem:<32} {backend:<10} {seconds:7.1f}s  {status}", flush=True)
        if "DatasetUnavailableError" in error:
            print(
                "  A dataset file is missing and could not be downloaded: run with "
                "--data FOLDER (e.g. ../shared/data) or `python3 run.py seed-cache FOLDER` first.",
                flush=True,
            )
    os.environ.pop(FIGURES_ENV_NAME, None)
    return rows


# ----------------------------------------------------------------------------
# The course: the table and the index page, from what is on disk
# ----------------------------------------------------------------------------


def load_summaries(out, backends=BACKENDS):
    """`{backend: {notebook: row}}` for every backend folder under `out` with a summary."""
    return {backend: read_summary(Path(out) / backend) for backend in backends}


def format_value(value, unit=""):
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}{unit}"
    return f"{value}{unit}"


def figure_names(stem, summaries, backends):
    """The figure names of a notebook, in the order first recorded, over all backends."""
    names = []
    for backend in backends:
        for name in summaries.get(backend, {}).get(stem, {}).get("figures", {}):
            if name not in names:
                names.append(name)
    return names


def comparison_rows(stems, summaries, backends):
    """One row per notebook and quantity (passed, seconds, seed, each figure), with a cell
    per backend; None where that backend has no result."""
    rows = []
    for stem in stems:
        results = [summaries.get(b, {}).get(stem) for b in backends]
        rows.append(
            (
                stem,
                "passed",
                [None if r is None else ("yes" if r["passed"] else "NO") for r in results],
            )
        )
        rows.append(
            (stem, "seconds", [None if r is None else f"{r['seconds']:.1f}" for r in results])
        )
        if any(r is not None and r.get("seed") is not None for r in results):
            seeds = [None if r is None else r.get("seed") for r in results]
            rows.append((stem, "seed", [None if s is None else str(s) for s in seeds]))
        for name in figure_names(stem, summaries, backends):
            cells = []
            for r in results:
                if r is None or name not in r.get("figures", {}):
                    cells.append(None)
                else:
                    cells.append(format_value(r["figures"][name], r.get("units", {}).get(name, "")))
            rows.append((stem, name, cells))
    return rows


def comparison_table(stems, summaries, backends):
    """The console table: a column per backend; "-" marks what was not run."""
    lines = [
        "| notebook | quantity | " + " | ".join(backends) + " |",
        "|---|---|" + "---:|" * len(backends),
    ]
    previous = None
    for stem, quantity, cells in comparison_rows(stems, summaries, backends):
        shown = stem if stem != previous else ""
        previous = stem
        values = [cell if cell is not None else "-" for cell in cells]
        lines.append(f"| {shown} | {quantity} | " + " | ".join(values) + " |")
    return lines


def _inline_markdown(text):
    try:
        import mistune

        rendered = mistune.html(text).strip()
        return (
            rendered[3:-4] if rendered.startswith("<p>") and rendered.endswith("</p>") else rendered
        )
    except ImportError:
        return html.escape(text)


INDEX_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
  max-width: 1180px; margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { font-size: 1.2em; margin-top: 2em; }
.meta { color: #59636e; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #d1d9e0; padding: .45em .6em; vertical-align: top;
  text-align: left; }
th { background: #f6f8fa; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.title { font-weight: 600; } .title a { color: inherit; }
.subtitle { color: #59636e; font-size: .92em; margin-top: .15em; }
code { font-size: .9em; background: #f6f8fa; padding: 0 .25em; border-radius: 3px; }
.run { white-space: nowrap; }
.ok, .fail, .none { display: inline-block; padding: 0 .45em; border-radius: 1em;
  font-size: .85em; font-weight: 600; }
.ok { background: #dafbe1; color: #116329; } .fail { background: #ffebe9; color: #a40e26; }
.none { background: #eff2f5; color: #59636e; font-weight: 400; }
.secs { color: #59636e; font-size: .85em; }
.err { color: #a40e26; font-size: .8em; max-width: 16em; white-space: normal; }
.missing { color: #8c959f; }
tr.first td { border-top: 2px solid #d1d9e0; }
tr.total td { font-weight: 600; background: #f6f8fa; }
col.backend { width: 15em; } col.name { width: 18em; }
th.num { text-align: right; } td.run { text-align: right; }
"""


def index_html(entries, summaries, out, backends=BACKENDS, generated=None):
    """The index page of an executed course.

    Args:
        entries: `[(stem, title, subtitle), ...]` in course order.
        summaries: `load_summaries(out)`.
        out: The folder the page is written to; links are relative to it.
        backends: The columns.
        generated: A timestamp for the page (default: now).

    Returns:
        The page as a string.
    """
    out = Path(out)
    generated = generated or datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    esc = html.escape
    columns = '<col class="backend">' * len(backends)
    header = "".join(f'<th class="num">{esc(BACKEND_LABELS.get(b, b))}</th>' for b in backends)
    body = []
    for stem, title, subtitle in entries:
        cells = []
        for backend in backends:
            row = summaries.get(backend, {}).get(stem)
            page = out / backend / f"{stem}.html"
            link = f'<a href="{esc(backend)}/{esc(stem)}.html">HTML</a>' if page.exists() else ""
            if row is None:
                text = '<span class="none">not run</span>'
                text += f" · {link}" if link else ""
            else:
                badge = (
                    '<span class="ok">✓ passed</span>'
                    if row["passed"]
                    else f'<span class="fail" title="{esc(row.get("error", ""))}">✗ failed</span>'
                )
                seed = f" · seed {row['seed']}" if row.get("seed") is not None else ""
                secs = f'<span class="secs">{row["seconds"]:.0f} s{seed}</span>'
                html_part = link or '<span class="missing">no HTML</span>'
                text = f"{badge} {secs} · {html_part}"
                if not row["passed"] and row.get("error"):
                    text += f'<div class="err">{esc(row["error"][:90])}</div>'
            cells.append(f'<td class="run">{text}</td>')
        first_link = next(
            (f"{b}/{stem}.html" for b in backends if (out / b / f"{stem}.html").exists()), None
        )
        title_html = esc(title)
        if first_link:
            title_html = f'<a href="{esc(first_link)}">{title_html}</a>'
        body.append(
            f'<tr><td><div class="title">{title_html}</div>'
            f'<div class="subtitle">{_inline_markdown(subtitle)}</div></td>{"".join(cells)}</tr>'
        )
    totals = []
    for backend in backends:
        rows = [summaries.get(backend, {}).get(stem) for stem, _, _ in entries]
        rows = [r for r in rows if r is not None]
        good = sum(r["passed"] for r in rows)
        totals.append(
            f'<td class="run">{good} of {len(rows)} passed'
            f' <span class="secs">{sum(r["seconds"] for r in rows):.0f} s</span></td>'
        )
    body.append(f'<tr class="total"><td>All notebooks</td>{"".join(totals)}</tr>')

    figure_rows = []
    for stem, title, _ in entries:
        rows = [
            r
            for r in comparison_rows([stem], summaries, backends)
            if r[1] not in ("passed", "seconds", "seed")  # those are in the table above
        ]
        for i, (_, quantity, values) in enumerate(rows):
            name_cell = f'<td rowspan="{len(rows)}">{esc(title)}</td>' if i == 0 else ""
            shown = "".join(
                f'<td class="num">{esc(v)}</td>'
                if v is not None
                else '<td class="num missing">–</td>'
                for v in values
            )
            css = ' class="first"' if i == 0 else ""
            figure_rows.append(
                f"<tr{css}>{name_cell}<td><code>{esc(quantity)}</code></td>{shown}</tr>"
            )
    if not figure_rows:
        figure_rows.append(f'<tr><td colspan="{2 + len(backends)}">No figures yet.</td></tr>')

    results = [r for b in backends for r in summaries.get(b, {}).values()]
    passed = sum(r["passed"] for r in results)
    not_run = len(entries) * len(backends) - len(results)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lstmkit course — executed notebooks</title>
<style>{INDEX_STYLE}</style></head>
<body>
<h1>lstmkit course — executed notebooks</h1>
<p class="meta">{len(entries)} notebooks × {len(backends)} backends: {passed} passed,
{len(results) - passed} failed, {not_run} not run · page made {esc(generated)} by
<code>python3 run.py course</code> from the results in this folder</p>
<h2>Notebooks</h2>
<table><colgroup><col>{columns}</colgroup>
<thead><tr><th>Notebook</th>{header}</tr></thead>
<tbody>
{chr(10).join(body)}
</tbody></table>
<h2>Key figures</h2>
<table><colgroup><col class="name"><col>{columns}</colgroup>
<thead><tr><th>Notebook</th><th>Figure</th>{header}</tr></thead>
<tbody>
{chr(10).join(figure_rows)}
</tbody></table>
</body></html>
"""


def index_entries(summaries, folder=None):
    """`(stem, title, subtitle)` for the course's notebooks, then any others on disk."""
    entries = [(p.stem, *notebook_heading(p)) for p in notebooks(folder=folder)]
    known = {stem for stem, _, _ in entries}
    others = sorted({stem for rows in summaries.values() for stem in rows} - known)
    return entries + [(stem, stem, "(not in course/ any more)") for stem in others]


def write_index(out, backends=BACKENDS, folder=None):
    summaries = load_summaries(out, backends)
    page = Path(out) / "index.html"
    page.write_text(
        index_html(index_entries(summaries, folder), summaries, out, backends), encoding="utf-8"
    )
    return page


def run_course(args):
    if args.backend not in (*BACKENDS, "all"):  # argparse does not check a default
        sys.exit(
            f"KERAS_BACKEND={args.backend!r} is not a backend of this course; "
            f"use one of {', '.join(BACKENDS)} (or --backend all)."
        )
    backends = list(BACKENDS) if args.backend == "all" else [args.backend]
    paths = notebooks(args.only)
    if not paths:
        sys.exit(f"No notebook in {ROOT / 'course'} starts with {' or '.join(args.only)}.")
    if args.seed is not None:
        missing = notebooks_without_seed(paths)
        if missing:
            sys.exit(
                f"--seed {args.seed}: no `SEED = <int>` line in a code cell of "
                f"{', '.join(missing)}; these notebooks cannot take a seed. Leave them out "
                "with --only, or define SEED in their first code cell."
            )
    data = args.data or os.environ.get(DATA_MIRROR_ENV)
    if data and not Path(data).is_dir():
        source = "--data" if args.data else f"${DATA_MIRROR_ENV}"
        sys.exit(f"{source} {data}: no such folder.")
    out = Path(args.out).resolve() if args.out else DEFAULT_OUT

    if len(backends) == 1:
        rows = run_backend(backends[0], paths, out, args.seed, args.cell_timeout, data)
        failed = sum(not r["passed"] for r in rows)
    else:  # one process per backend: Keras fixes the backend at import
        failed = 0
        for backend in backends:
            command = [sys.executable, ROOT / "run.py", "course", "--backend", backend]
            command += ["--only", *[p.stem for p in paths], "--out", out]
            command += ["--cell-timeout", str(args.cell_timeout), "--no-report"]
            if args.seed is not None:
                command += ["--seed", str(args.seed)]
            if data:
                command += ["--data", data]
            print(f"\n== {backend}", flush=True)
            code = run_child(command)
            if code == 128 + 2:  # Ctrl-C (SIGINT) stopped the child: stop here too
                return code
            failed += code != 0
    if args.no_report:
        return 1 if failed else 0

    summaries = load_summaries(out, backends)
    stems = [p.stem for p in paths]
    print()
    if args.seed is not None:
        print(f"seed: {args.seed} (SEED = {args.seed} in every notebook)")
    print("\n".join(comparison_table(stems, summaries, backends)))
    page = write_index(out)
    print(f"\nExecuted notebooks (ipynb and HTML): {out}/<backend>/")
    print(f"Index of everything there: {page}")
    for backend in backends:
        rows = [summaries[backend][s] for s in stems if s in summaries[backend]]
        bad = sum(not r["passed"] for r in rows)
        total = sum(r["seconds"] for r in rows)
        print(f"course on {backend}: {len(rows) - bad} passed, {bad} failed ({total:.0f} s)")
    return 1 if failed else 0


# ----------------------------------------------------------------------------
# The test suite
# ----------------------------------------------------------------------------


def _pytest_counts(output):
    counts = {}
    tail = output.strip().splitlines()[-1] if output.strip() else ""
    for number, word in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)", tail):
        word = "error" if word.startswith("error") else word
        counts[word] = counts.get(word, 0) + int(number)
    return counts


def run_tests(args):
    print("== ruff (lint: lstmkit, tests, benchmarks, course notebooks, run.py)", flush=True)
    lint = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "lstmkit",
            "coursetools",
            "tests",
            "benchmarks",
            "course",
            "run.py",
        ],
        cwd=ROOT,
    )
    formatting = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "lstmkit", "coursetools", "tests"]
        + ["benchmarks", "course", "run.py"],
        cwd=ROOT,
    )
    totals, failed_backends = {}, []
    for backend in args.backends:
        env = dict(os.environ, KERAS_BACKEND=backend, **QUIET_TF)
        env.pop(FIGURES_ENV_NAME, None)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "tests",
            "-q",
            "-rfEs",
            "--durations=5",
            *args.pytest_args,
        ]
        print(f"\n== {backend}: {' '.join(command[2:])}", flush=True)
        start = time.perf_counter()
        with tempfile.TemporaryFile("w+") as log:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for line in process.stdout:
                sys.stdout.write(line)
                log.write(line)
            process.wait()
            log.seek(0)
            counts = _pytest_counts(log.read())
        print(f"== {backend}: {counts} in {time.perf_counter() - start:.0f} s", flush=True)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        if process.returncode != 0:
            failed_backends.append(backend)
    passed = totals.get("passed", 0)
    failed = totals.get("failed", 0) + totals.get("error", 0)
    print()
    if lint.returncode != 0 or formatting.returncode != 0:
        print("ruff found problems (see above; `ruff format` fixes the formatting).")
    if failed_backends:
        print(f"failing backends: {', '.join(failed_backends)}")
    skipped = f", {totals['skipped']} skipped" if totals.get("skipped") else ""
    print(f"{len(args.backends)} backends: {passed} passed, {failed} failed{skipped}")
    linted = lint.returncode == 0 and formatting.returncode == 0
    ok = linted and not failed_backends and passed > 0
    return 0 if ok else 1


def parser():
    parser = argparse.ArgumentParser(description="Set up, run and test the lstmkit course.")
    sub = parser.add_subparsers(dest="command", required=True)
    course = sub.add_parser("course", help="execute every notebook and print the results table")
    course.add_argument(
        "--backend",
        choices=[*BACKENDS, "all"],
        default=os.environ.get("KERAS_BACKEND", "tensorflow"),
        help="a backend, or all (one process each); default: $KERAS_BACKEND or tensorflow",
    )
    course.add_argument("--only", nargs="+", metavar="PREFIX", help="e.g. --only 00 03")
    course.add_argument(
        "--data",
        metavar="FOLDER",
        help=f"seed the Keras cache from the files in FOLDER first (default: ${DATA_MIRROR_ENV})",
    )
    course.add_argument(
        "--seed", type=int, help="set `SEED = N` in every notebook (each must define SEED)"
    )
    course.add_argument(
        "--out", metavar="FOLDER", help="build folder (default: build/course under this checkout)"
    )
    course.add_argument("--cell-timeout", type=int, default=900)
    course.add_argument("--no-report", action="store_true", help=argparse.SUPPRESS)
    test = sub.add_parser("test", help="lint, then pytest + nbval on each backend in turn")
    test.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    test.add_argument("--cell-timeout", type=int, default=900)
    test.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --)")
    sub.add_parser("setup", help="create or update .venv and its Jupyter kernels")
    seed = sub.add_parser("seed-cache", help="copy dataset files from FOLDER into the Keras cache")
    seed.add_argument("folder")
    return parser


def main():
    code = ensure_supported_python()  # before argparse: an old Python gets a message
    if code is not None:
        return code
    args = parser().parse_args()
    code = run_in_venv()
    if code is not None:
        return code
    if args.command == "setup":
        print(f"Ready: {VENV_PYTHON}")
        return 0
    if args.command == "seed-cache":
        from lstmkit import datasets

        if not Path(args.folder).is_dir():
            sys.exit(f"seed-cache {args.folder}: no such folder.")
        copied = datasets.seed_cache(args.folder)
        print(f"Copied {len(copied)} files into {datasets.cache_dir()}: {', '.join(copied)}")
        return 0
    if args.command == "course":
        return run_course(args)
    return run_tests(args)


if __name__ == "__main__":
    sys.exit(main())
