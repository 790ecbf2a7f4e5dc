"""Keras's own RNN tests, run with lstmkit's layers in place of Keras's: how drop-in they are.

    python tests/keras_rnn_suite.py [KERAS_SOURCE] [--backends tensorflow jax torch]
                                    [--keras-only] [-k EXPRESSION] [--json FILE]

KERAS_SOURCE is a Keras source checkout (its root, holding `keras/src/layers/rnn/`),
at the version `constraints.txt` pins (`git checkout v3.15.1`); by default the
installed keras package, whose 3.15.1 wheel ships the same test files. These five
are run, each file under every backend asked for (one process per backend):

    lstm_test.py  gru_test.py  simple_rnn_test.py  bidirectional_test.py
    stacked_rnn_cells_test.py

Before the tests are collected, `keras.layers.NAME` and `keras.src.layers.NAME` (the
name the tests call, `from keras.src import layers`) become lstmkit's: LSTM and
LSTMCell -> `lstmkit.LSTM` and `lstmkit.LSTMCell`, GRU -> `lstmkit.GRU`, SimpleRNN
-> `lstmkit.SimpleRNN`. Everything else is Keras's own. The Keras files are copied
into a temporary folder and run there; they are not part of this project.

`--keras-only` runs the same files with Keras's own layers, the baseline (some
tests skip on a backend or without a GPU either way). Prints the outcome per file
and backend, how many lstmkit layers the tests made (evidence that the
substitution took), then every test that did not pass: those
in `EXCLUDED` (tests of a fused cuDNN path that lstmkit does not have, with the
reason) are expected; any other failure makes the exit status 1. The project's
pytest run calls it once per backend (tests/test_drop_in.py); about 50 s on one core.
"""

import argparse
import functools
import inspect
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

FILES = (
    "lstm_test.py",
    "gru_test.py",
    "simple_rnn_test.py",
    "bidirectional_test.py",
    "stacked_rnn_cells_test.py",
)
BACKENDS = ("tensorflow", "jax", "torch")
SUBSTITUTES = {  # Keras's name -> lstmkit's
    "LSTM": "LSTM",
    "LSTMCell": "LSTMCell",
    "GRU": "GRU",
    "SimpleRNN": "SimpleRNN",
}
# Tests that exercise a fused (cuDNN) path of Keras's own classes. lstmkit's LSTM
# runs its gate math in keras.ops and is no keras.layers.LSTM, so Bidirectional
# does not offer it its fused two-direction kernel.
EXCLUDED = {
    "bidirectional_test.py::SimpleRNNTest::test_fused_lstm_eligibility": (
        "asserts that Bidirectional(LSTM) may take Keras's fused cuDNN path "
        "(`_can_attempt_fused_lstm` is True); it checks isinstance(layer, "
        "keras.layers.LSTM), and lstmkit.LSTM has no fused path"
    ),
}


def keras_test_folder(source):
    """The folder holding the RNN test files, from a checkout root or a keras package."""
    source = pathlib.Path(source).resolve()
    for candidate in (
        source / "keras" / "src" / "layers" / "rnn",
        source / "src" / "layers" / "rnn",
    ):
        if all((candidate / name).is_file() for name in FILES):
            return candidate
    raise SystemExit(
        f"No Keras RNN tests under {source}: expected keras/src/layers/rnn/{{{','.join(FILES)}}} "
        "(a Keras source checkout, e.g. `git clone https://github.com/keras-team/keras` "
        "and `git checkout v3.15.1`)."
    )


def installed_keras_root():
    import importlib.util

    spec = importlib.util.find_spec("keras")
    return pathlib.Path(spec.origin).parent.parent  # site-packages, holding keras/


class Outcomes:
    """A pytest plugin: swaps the classes in before collection, counts the results."""

    def __init__(self, rnn_test_module, substitute=True):
        self.rnn_test_module = rnn_test_module
        self.substitute = substitute
        self.results = {}  # nodeid -> (outcome, message)
        self.made = dict.fromkeys(SUBSTITUTES.values(), 0)  # lstmkit layers the tests made

    def pytest_configure(self, config):
        import importlib.util

        import keras
        from keras.src import layers as keras_src_layers

        import lstmkit

        for keras_name, lstmkit_name in SUBSTITUTES.items() if self.substitute else ():
            setattr(keras.layers, keras_name, getattr(lstmkit, lstmkit_name))
            setattr(keras_src_layers, keras_name, getattr(lstmkit, lstmkit_name))
            self._count_instances(getattr(lstmkit, lstmkit_name), lstmkit_name)
        try:  # stacked_rnn_cells_test imports its test cells from rnn_test
            import keras.src.layers.rnn.rnn_test  # noqa: F401
        except ImportError:
            spec = importlib.util.spec_from_file_location(
                "keras.src.layers.rnn.rnn_test", self.rnn_test_module
            )
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)

    def _count_instances(self, cls, name):
        # Evidence that the tests ran lstmkit's classes: count what they made.
        original = cls.__init__
        made = self.made

        @functools.wraps(original)
        def counting_init(layer, *args, **kwargs):
            if type(layer) is cls:
                made[name] += 1
            original(layer, *args, **kwargs)

        # Keras reads the arguments' names with getfullargspec, which honours this.
        counting_init.__signature__ = inspect.signature(original)
        cls.__init__ = counting_init

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
            else:
                outcome = report.outcome
            message = ""
            if report.failed:
                message = str(report.longrepr).strip().splitlines()[-1][:300]
            elif report.skipped and isinstance(report.longrepr, tuple):
                message = str(report.longrepr[2])[:300]
            self.results[report.nodeid] = (outcome, message)


def run_child(source, keyword, substitute=True):
    """Runs the five files under this process's backend; prints the results as JSON."""
    import pytest

    folder = keras_test_folder(source)
    with tempfile.TemporaryDirectory(prefix="keras-rnn-suite-") as work:
        work = pathlib.Path(work)
        for name in FILES:
            shutil.copyfile(folder / name, work / name)
        (work / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
        plugin = Outcomes(folder / "rnn_test.py", substitute)
        arguments = ["-q", "-c", str(work / "pytest.ini"), "--rootdir", str(work)]
        arguments += ["-k", keyword] if keyword else []
        status = pytest.main([*arguments, *(str(work / name) for name in FILES)], [plugin])
    import keras

    print(
        "KERAS_RNN_SUITE "
        + json.dumps(
            {
                "backend": keras.backend.backend(),
                "keras": keras.__version__,
                "status": int(status),
                "substituted": substitute,
                "made": plugin.made,
                "results": plugin.results,
            }
        )
    )


def summarise(runs):
    """The table of outcomes per file and backend, and the tests that did not pass."""
    backends = [run["backend"] for run in runs]
    what = "lstmkit's layers substituted" if runs[0]["substituted"] else "Keras's own layers"
    lines = [f"Keras {runs[0]['keras']}'s RNN tests with {what}", ""]
    lines.append(f"{'file':28}" + "".join(f"{backend:>36}" for backend in backends))
    unexpected = []
    for name in FILES:
        cells = []
        for run in runs:
            counts = {}
            for nodeid, (outcome, _) in run["results"].items():
                if nodeid.split("::")[0].endswith(name):
                    counts[outcome] = counts.get(outcome, 0) + 1
            total = sum(counts.values())
            text = f"{counts.get('passed', 0)}/{total} passed"
            others = [f"{n} {o}" for o, n in sorted(counts.items()) if o != "passed"]
            cells.append(text + (f" ({', '.join(others)})" if others else ""))
        lines.append(f"{name:28}" + "".join(f"{cell:>36}" for cell in cells))
    lines.append("")
    for run in runs:
        made = ", ".join(f"{name} {count}" for name, count in run["made"].items())
        lines.append(f"{run['backend']}: lstmkit layers the tests made: {made}")
    lines.append("")
    for run in runs:
        for nodeid, (outcome, message) in sorted(run["results"].items()):
            if outcome == "passed":
                continue
            key = "::".join([pathlib.Path(nodeid.split("::")[0]).name, *nodeid.split("::")[1:]])
            reason = EXCLUDED.get(key)
            if outcome in ("failed", "error") and reason is None:
                unexpected.append(f"{run['backend']}: {key}: {message}")
            else:
                lines.append(f"{run['backend']}: {key}: {outcome}: {reason or message}")
    if unexpected:
        lines += ["", "Unexpected failures:", *unexpected]
    else:
        lines += ["", "No unexpected failures."]
    return "\n".join(lines), not unexpected


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "keras_source",
        nargs="?",
        help="a Keras source checkout (default: the installed keras package)",
    )
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("-k", dest="keyword", help="pytest -k expression, to run fewer tests")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument(
        "--keras-only",
        action="store_true",
        help="substitute nothing: Keras's own layers, the baseline to compare with",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    source = args.keras_source or installed_keras_root()
    keras_test_folder(source)  # fail early, with the message
    if args.child:
        run_child(source, args.keyword, substitute=not args.keras_only)
        return 0
    root = pathlib.Path(__file__).resolve().parents[1]
    runs = []
    for backend in args.backends:
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        command = [sys.executable, __file__, str(source), "--child"]
        command += ["-k", args.keyword] if args.keyword else []
        command += ["--keras-only"] if args.keras_only else []
        child = subprocess.run(command, env=env, capture_output=True, text=True, cwd=root)
        found = [line for line in child.stdout.splitlines() if line.startswith("KERAS_RNN_SUITE ")]
        if not found:
            sys.stderr.write(child.stdout[-3000:] + child.stderr[-3000:])
            raise SystemExit(f"The {backend} run ended without results (exit {child.returncode}).")
        runs.append(json.loads(found[-1].split(" ", 1)[1]))
        print(f"{backend}: done", file=sys.stderr)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(runs, indent=1))
    text, clean = summarise(runs)
    print(text)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
