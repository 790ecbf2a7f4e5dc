"""A stand-in interpreter for the set-up tests (test_environment, test_run_py)."""

import pathlib


def fake_python(folder, name, body):
    """An executable shell script `folder/name` running `body`; returns its path."""
    path = pathlib.Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)
