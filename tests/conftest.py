"""Test set-up shared by pytest and the notebooks executed in kernels started from here.

Everything is put in os.environ before Keras is imported, so the kernels that
test_course.py (and the course-runner tests) start inherit it too:
- KERAS_BACKEND (default tensorflow; the runner starts one process per backend);
- a temporary KERAS_HOME whose datasets/ is seeded from ../shared/data (or
  $LSTMKIT_DATA_MIRROR), so the real loaders find their files;
- proxies pointing at a closed local port: a test that would download fails at
  once instead of hanging;
- TensorFlow's C++ log lines silenced.
"""

import os
import pathlib
import shutil
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA_MIRROR = pathlib.Path(os.environ.get("LSTMKIT_DATA_MIRROR", ROOT.parent / "shared" / "data"))

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("PYTHONHASHSEED", "0")
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ[_var] = "http://127.0.0.1:9"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = ""

_KERAS_HOME = tempfile.mkdtemp(prefix="lstmkit-keras-home-")
os.environ["KERAS_HOME"] = _KERAS_HOME

import keras  # noqa: E402  (after the environment above)
import pytest  # noqa: E402

from lstmkit import datasets  # noqa: E402

SEEDED = datasets.seed_cache(DATA_MIRROR) if DATA_MIRROR.is_dir() else []


def pytest_report_header(config):
    return (
        f"lstmkit: KERAS_BACKEND={keras.backend.backend()}, KERAS_HOME={_KERAS_HOME}, "
        f"seeded {len(SEEDED)} dataset files from {DATA_MIRROR}"
    )


def pytest_collection_finish(session):
    # test_course executes its notebooks in a batch, several at once: only those selected.
    modules = {item.module for item in session.items if hasattr(item.module, "select")}
    for module in modules:
        module.select(
            item.callspec.params["path"]
            for item in session.items
            if item.module is module and hasattr(item, "callspec")
        )


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_KERAS_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


def requires_data(*fnames):
    """Skips a test whose files the mirror did not provide; in CI (CI set) it runs and fails."""
    missing = [f for f in fnames if f not in SEEDED]
    return pytest.mark.skipif(
        bool(missing) and not os.environ.get("CI"),
        reason=f"no local copy of {missing} in {DATA_MIRROR}",
    )


@pytest.fixture(scope="session")
def tiny_course_run(tmp_path_factory):
    """`run.py course` on a course of its own, on this backend with seeds 1 and 2: a lesson
    that records figures (with math, a diagram and links), its worked solutions, and a lesson
    whose check fails. Returns `(course folder, build folder, exit code, printed output)`."""
    import contextlib
    import io

    import nbformat

    from coursetools import course

    root = tmp_path_factory.mktemp("tiny-course")
    folder = root / "course"
    (folder / "solutions").mkdir(parents=True)
    new_markdown, new_code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    probe = [
        new_markdown(
            "# 98 · A probe\n\nWhat a probe teaches, with `code` and a | bar.\n\n"
            "$$\\begin{aligned} a &= b^2 \\end{aligned}$$\n\n"
            '```mermaid\nflowchart LR\n    a["x<br/>y"] --> b\n```\n\n'
            "Lesson [99](99_not_built.ipynb) comes next; the exercises are solved in "
            "[the solutions](solutions/98_probe_solutions.ipynb)."
        ),
        new_code(
            "import os\n\nSEED = 0\nfrom lstmkit.report import record\n\n"
            "record('answer', SEED * 2)\nrecord('share', 12.5, '%')\n"
            "print(os.environ['KERAS_BACKEND'])"
        ),
    ]
    solutions = [
        new_markdown("# 98 · Solutions\n\nBack to [the lesson](../98_probe.ipynb).\n\n## One"),
        new_code("SEED = 0\nprint('solved with seed', SEED)"),
    ]
    fails = [
        new_markdown("# 97 · Fails\n\nA lesson whose check fails."),
        new_code("SEED = 0\nassert SEED == 0.5, 'the check failed'"),
    ]
    for name, cells in [
        ("98_probe", probe),
        ("solutions/98_probe_solutions", solutions),
        ("97_fails", fails),
    ]:
        nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / f"{name}.ipynb")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = course.run(
            sorted(folder.glob("[0-9][0-9]_*.ipynb")),
            backends=[keras.backend.backend()],
            seeds=[1, 2],
            out=root / "build",
            command="python3 run.py course --seed 1 2",
            course_folder=folder,
            build_site=False,
        )
    return folder, root / "build", code, printed.getvalue()
