"""The project's environment: .venv with the pinned stack, three Jupyter kernels, mermaid.js.

Standard library only: run.py calls `ensure` with the interpreter it chose, before .venv
exists. `plan_setup` decides from what it finds (does .venv's Python run, is pip there,
does it import this checkout's lstmkit, did pyproject.toml or constraints.txt change,
are the kernels current) and does nothing itself, so that it can be tested on its own.

mermaid.js, which draws the course's diagrams in the site, is no Python package: it is
fetched once from the npm registry with `npm pack` (the tarball only, checked against
the pinned integrity hash) into .venv/share/lstmkit/.
"""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
BACKENDS = ("tensorflow", "jax", "torch")
BACKEND_LABELS = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
QUIET_TF = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}
MERMAID_VERSION = "12.4.0"
MERMAID_INTEGRITY = (  # npm's "integrity" of the tarball: `npm view mermaid@12.4.0 dist.integrity`
    "sha512-j2gvsGUFeS/53WdYLl9H5G2YtMZX9G/PlCvV3E5Pf4j5XSnK19DwazU6wki7OTcKeYKed7+qujRDLhy8NV2zBg=="
)


def venv_python(venv=VENV):
    return Path(venv, "Scripts/python.exe" if os.name == "nt" else "bin/python")


def marker(venv=VENV):
    return Path(venv, ".lstmkit-installed")


def in_venv(venv=VENV):
    return Path(sys.prefix).resolve() == Path(venv).resolve()


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


def linked_to_another_checkout(venv, probe, root=ROOT):
    """Whether `venv` is a symlink to an environment that imports lstmkit from another
    checkout: recreating it (`venv --clear` through the link) would wipe that checkout's."""
    origin = probe.get("lstmkit")
    return Path(venv).is_symlink() and bool(origin) and not _within(origin, Path(root) / "lstmkit")


def plan_setup(
    venv_exists,
    probe,
    marker_current,
    kernels_missing,
    root=ROOT,
    python_ok=lambda version: True,
    python_text="a supported Python",
):
    """Decides what the set-up must do, from what was found; does nothing itself.

    Args:
        venv_exists: Whether the .venv folder exists.
        probe: `probe_venv(.venv's python)`, when it exists.
        marker_current: Whether the install marker holds the current fingerprint.
        kernels_missing: Backends whose Jupyter kernel is absent or out of date.
        root: The checkout.
        python_ok: Whether a version tuple can run the pinned stack (run.py's range).
        python_text: That range in words, for the reason.

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
    if not python_ok(version):
        shown = ".".join(map(str, version))
        return rebuild, f".venv was made with Python {shown}; {python_text} needed"
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


def install_fingerprint(root=ROOT):
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update(Path(root, name).read_bytes())
    return digest.hexdigest()


# ----------------------------------------------------------------------------
# The Jupyter kernels, one per backend
# ----------------------------------------------------------------------------


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
        command = [str(python), "-m", "ipykernel", "install", "--prefix", str(prefix)]
        command += ["--name", kernel_name(backend)]
        command += ["--display-name", kernel_display_name(backend)]
        for key, value in kernel_env(backend).items():
            command += ["--env", key, value]
        subprocess.run(command, check=True, capture_output=True, text=True)


# ----------------------------------------------------------------------------
# mermaid.js, for the site's diagrams
# ----------------------------------------------------------------------------


def mermaid_js(prefix=None):
    """The installed `mermaid.min.js` of the pinned version, or None."""
    path = Path(prefix or sys.prefix, "share", "lstmkit", f"mermaid-{MERMAID_VERSION}")
    path = path / "mermaid.min.js"
    return path if path.exists() else None


def npm_integrity(tarball):
    """The integrity string npm gives a tarball: "sha512-" and its base64 SHA-512."""
    digest = hashlib.sha512(Path(tarball).read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def unpack_mermaid(tarball, prefix, integrity=MERMAID_INTEGRITY):
    """Checks the tarball against `integrity` and puts its `mermaid.min.js` and LICENSE
    into `prefix`/share/lstmkit/mermaid-<version>/; returns the script's path."""
    found = npm_integrity(tarball)
    if found != integrity:
        raise ValueError(f"{tarball} has integrity {found}, not the pinned {integrity}.")
    folder = Path(prefix, "share", "lstmkit", f"mermaid-{MERMAID_VERSION}")
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as archive:
        for name in ("dist/mermaid.min.js", "LICENSE"):
            member = archive.extractfile(f"package/{name}")
            Path(folder, Path(name).name).write_bytes(member.read())
    return folder / "mermaid.min.js"


def install_mermaid(prefix, npm=None):
    """Fetches the pinned mermaid with `npm pack` into `prefix`; returns the script's path,
    or None (with a message) when there is no npm."""
    npm = npm or shutil.which("npm")
    if npm is None:
        print(
            f"No npm found: the site will show Mermaid diagrams as their source. Install "
            f"Node.js (npm) and run `python3 run.py setup` to fetch mermaid {MERMAID_VERSION}.",
            flush=True,
        )
        return None
    print(f"Fetching mermaid {MERMAID_VERSION} (for the site's diagrams) with npm ...", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        command = [npm, "pack", f"mermaid@{MERMAID_VERSION}", "--pack-destination", folder]
        subprocess.run(command + ["--silent"], check=True, stdout=subprocess.DEVNULL)
        return unpack_mermaid(Path(folder, f"mermaid-{MERMAID_VERSION}.tgz"), prefix)


# ----------------------------------------------------------------------------
# The set-up
# ----------------------------------------------------------------------------


def _failed(what, exc):
    output = getattr(exc, "output", None) or getattr(exc, "stderr", None) or ""
    sys.exit(
        f"{output}\n{what} failed ({exc}).\nFix the cause shown above and run "
        "`python3 run.py setup` again; to start from scratch, delete .venv first."
    )


def ensure(python_ok, python_text, venv=VENV, root=ROOT, with_mermaid=False):
    """Creates, repairs or updates `venv` and its kernels, as `plan_setup` decides, with
    the Python running this; with `with_mermaid`, fetches mermaid.js if it is missing."""
    python = venv_python(venv)
    fingerprint = install_fingerprint(root)
    marker_current = marker(venv).exists() and marker(venv).read_text() == fingerprint
    probe = probe_venv(python) if Path(venv).exists() else {}
    missing = kernels_missing(venv, python) if probe.get("runs") else list(BACKENDS)
    actions, reason = plan_setup(
        Path(venv).exists(), probe, marker_current, missing, root, python_ok, python_text
    )
    if "recreate" in actions and linked_to_another_checkout(venv, probe, root):
        sys.exit(
            f"{venv} is a link to {Path(venv).resolve()}, the environment of another checkout "
            f"({Path(probe['lstmkit']).parent.parent}); recreating it here would clear that "
            f"one's. Remove the link (`rm {venv}`) and run again: this checkout gets a .venv "
            "of its own."
        )
    if actions:
        print(f"Setting up {venv}: {reason}{'' if reason.endswith('?') else '.'}", flush=True)
    if "create" in actions or "recreate" in actions:
        print(f"Creating the virtual environment with Python {sys.version.split()[0]} ...")
        # venv refuses a symlinked folder; a .venv linked to another disk is rebuilt there.
        command = [sys.executable, "-m", "venv", str(Path(venv).resolve())]
        if "recreate" in actions:
            command.insert(3, "--clear")
        if subprocess.run(command).returncode != 0:
            version = f"{sys.version_info[0]}.{sys.version_info[1]}"
            sys.exit(
                f"Could not create {venv} (see above). If this Python has no ensurepip: "
                f"`sudo apt install python{version}-venv`."
            )
    if "ensurepip" in actions:
        print("Installing pip into .venv ...", flush=True)
        if subprocess.run([str(python), "-m", "ensurepip", "--upgrade"]).returncode != 0:
            sys.exit(
                f"{venv} has no pip and its Python cannot make one (no ensurepip). Delete "
                f"{venv} and run again; on Debian/Ubuntu first `sudo apt install "
                f"python{sys.version_info[0]}.{sys.version_info[1]}-venv`."
            )
    if "install" in actions:
        print(
            "Installing lstmkit with TensorFlow, JAX and PyTorch (pinned in constraints.txt) ...",
            flush=True,
        )
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
        try:
            subprocess.run(pip + ["--upgrade", "pip"], check=True, stdout=subprocess.DEVNULL)
            constraints = str(Path(root, "constraints.txt"))
            subprocess.run(pip + ["-c", constraints, "-e", f"{root}[all,dev]"], check=True)
        except subprocess.CalledProcessError as exc:
            _failed("Installing into .venv", exc)
        marker(venv).write_text(fingerprint)
    if "kernels" in actions:
        missing = kernels_missing(venv, python)
        try:
            register_kernels(python, venv, missing)
        except subprocess.CalledProcessError as exc:
            _failed("Registering the Jupyter kernels", exc)
        names = ", ".join(kernel_name(b) for b in BACKENDS)
        print(f"Jupyter kernels {names} in {Path(venv, 'share', 'jupyter', 'kernels')}")
    if with_mermaid and mermaid_js(venv) is None:
        try:
            install_mermaid(venv)
        except (OSError, ValueError, KeyError, subprocess.CalledProcessError) as exc:
            print(
                f"Could not fetch mermaid {MERMAID_VERSION} ({exc}); the site will show "
                "diagrams as their source. Run `python3 run.py setup` again to retry."
            )
    return python
