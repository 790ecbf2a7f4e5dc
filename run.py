#!/usr/bin/env python3
"""Set up, run and test the lstmkit course. Needs Python 3.11.5 to 3.13 to start.

    python3 run.py course     # set up .venv if needed, run the course, build the site
    python3 run.py test       # set up .venv if needed, lint, then the whole suite on all 3 backends

Other commands:
    python3 run.py setup                 # only create/update .venv, its kernels and mermaid.js
    python3 run.py seed-cache FOLDER     # copy dataset files from FOLDER into the Keras cache
    python3 run.py course --backend jax --only 00 03
    python3 run.py course --backend all --data ../shared/data   # offline, every backend
    python3 run.py course --seed 0 1 2 --out build/seeds        # every notebook per seed
    python3 run.py course --help                                # every option

This file is only the bootstrap: it finds a Python that can install the pinned stack,
checks the arguments (coursetools/cli.py, standard library only), creates or repairs
.venv (coursetools/environment.py), then hands the command to `python -m coursetools`
inside .venv, where the course tooling lives (coursetools/__init__.py lists its modules).

Python: 3.11.5 is the floor of the pinned stack (soupsieve 4.1.2 requires >= 3.11.5;
keras 3.15.1, numpy 2.4.6, jax 0.10.2, scipy 1.17.1 and others >= 3.11), and 3.14 is
past its ceiling (tensorflow-cpu 2.21.0 and h5py 3.14.0 have no 3.14 wheels). If the
Python running this file is outside that range, run.py runs itself again with the first
python3.13, python3.12 or python3.11 on PATH that is inside it. This file parses on any
Python 3 (no f-strings), so that an old one gets that message, not a SyntaxError.
"""

from __future__ import print_function  # so that Python 2 can parse this file and be told

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
# The pinned stack's range: see the docstring. MAX_PYTHON is the first version outside.
MIN_PYTHON = (3, 11, 5)
MAX_PYTHON = (3, 14)
PYTHON_NAMES = ("python3.13", "python3.12", "python3.11", "python3", "python")
RERUN_ENV = "LSTMKIT_RUN_PY_RERUN"  # set in the re-run, so that it can never loop


def version_text(version):
    return ".".join(str(part) for part in version)


def python_supported(version):
    """Whether `version` (a tuple like `sys.version_info`) can install the pinned stack."""
    return MIN_PYTHON <= tuple(version[:3]) < MAX_PYTHON


SUPPORTED_TEXT = "Python {} to {}.{}".format(
    version_text(MIN_PYTHON), MAX_PYTHON[0], MAX_PYTHON[1] - 1
)


def probe_python(command, timeout=30):
    """The version tuple an interpreter (a command list) reports, or None if it does not run."""
    try:
        result = subprocess.run(
            command + ["-c", "import sys; print(*sys.version_info[:3])"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            universal_newlines=True,
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
            commands.append(["py", "-3.{}".format(minor)])
    return commands


def choose_python(commands, probe=probe_python):
    """`(the first command whose Python is supported or None, [(command, version), ...])`."""
    found = []
    for command in commands:
        version = probe(command)
        found.append((command, version))
        if version and python_supported(version):
            return command, found
    return None, found


def unsupported_python_message(running, executable, found):
    lines = [
        "lstmkit needs {}: the pinned stack in constraints.txt does not".format(SUPPORTED_TEXT),
        "install elsewhere (soupsieve 4.1.2 needs >= 3.11.5; keras 3.15, numpy 2.4, jax 0.10",
        "and scipy 1.17 need >= 3.11; tensorflow-cpu 2.21 and h5py 3.14 have no 3.14 wheels).",
        "This is Python {} ({}).".format(version_text(running), executable),
    ]
    lines.append("Interpreters found on PATH:" if found else "No other python3.x was found.")
    for command, version in found:
        verdict = ""
        if version and not python_supported(version):
            verdict = ", too old" if tuple(version) < MIN_PYTHON else ", too new"
        shown = version_text(version) if version else "does not run"
        lines.append("  {}: {}{}".format(" ".join(command), shown, verdict))
    lines.append("Install Python 3.12 (python.org, your package manager, pyenv or uv), then")
    lines.append("run `python3.12 run.py ...`.")
    return "\n".join(lines)


def run_child(command, env=None):
    """Runs `command` to the end and returns its exit code (for sys.exit).

    Used instead of os.execv, which on Windows returns to the shell at once with exit
    code 0 and splits arguments at spaces (cpython #101191). Ctrl-C reaches the child
    too (same console); we wait for it to stop rather than leave it orphaned.
    """
    process = subprocess.Popen([str(part) for part in command], env=env)
    while True:
        try:
            code = process.wait()
            break
        except KeyboardInterrupt:
            continue
    return 128 - code if code < 0 else code  # killed by a signal: the shell's convention


def ensure_supported_python(running=None, path=None, argv=None):
    """None when this Python will do; otherwise re-runs run.py with one that does and
    returns its exit code, or exits with a message naming what was found."""
    running = tuple((running or sys.version_info)[:3])
    if python_supported(running):
        return None
    if os.environ.get(RERUN_ENV):
        sys.exit("run.py was re-run with Python {}: unsupported.".format(version_text(running)))
    command, found = choose_python(interpreters_on_path(path=path))
    if command is None:
        sys.exit(unsupported_python_message(running, sys.executable, found))
    print(
        "run.py: Python {} is too {} for the pinned stack; using {} (Python {}).".format(
            version_text(running),
            "old" if running < MIN_PYTHON else "new",
            " ".join(command),
            version_text(dict((tuple(c), v) for c, v in found)[tuple(command)]),
        ),
        flush=True,
    )
    env = dict(os.environ)
    env[RERUN_ENV] = "1"
    argv = sys.argv[1:] if argv is None else argv
    return run_child(command + [os.path.join(ROOT, "run.py")] + list(argv), env=env)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if sys.version_info[0] < 3:
        sys.exit("run.py needs Python 3 ({}); run it as `python3 run.py`.".format(SUPPORTED_TEXT))
    code = ensure_supported_python(argv=argv)  # before anything else: old Pythons get a message
    if code is not None:
        return code
    sys.path.insert(0, ROOT)
    from coursetools import cli, environment

    cli.parse(argv)  # argument errors stop here, before any set-up
    python = environment.ensure(python_supported, SUPPORTED_TEXT, with_mermaid=True)
    env = dict(os.environ, **environment.QUIET_TF)
    return run_child([python, "-m", "coursetools"] + list(argv), env=env)


if __name__ == "__main__":
    sys.exit(main())
