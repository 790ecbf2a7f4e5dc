"""Test set-up shared by pytest and the notebooks nbval runs in kernels started from here.

Everything is put in os.environ before Keras is imported, so the kernels nbval
starts inherit it too:
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
