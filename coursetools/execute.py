"""Executing one notebook in a fresh kernel: the executed copy, its figures, its checks.

Both the course runner and the tests execute notebooks through `execute`, so a notebook
runs once per backend and what the tests read (outputs, recorded figures and checks) is
what the learner sees. The kernel inherits this process's environment: set
`KERAS_BACKEND` (and anything else) in `os.environ` first.
"""

import dataclasses
import datetime
import os
import re
import time
from pathlib import Path

FIGURES_ENV = "LSTMKIT_FIGURES"  # lstmkit.report.FIGURES_ENV (not imported: no Keras here)
SEED_LINE = re.compile(r"^(?P<head>[ \t]*SEED[ \t]*=[ \t]*)\d+\b", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
MOST_KERNELS = 2  # the most kernels at once by default: what the course's times were measured with


def available_cores():
    """The cores this process may use (what `taskset` or a container allows)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def default_workers():
    """How many one-threaded kernels (or test workers) run at once unless told: one per core
    this process may use, at most `MOST_KERNELS`."""
    return min(available_cores(), MOST_KERNELS)


@dataclasses.dataclass
class CellError:
    """The first cell that raised: its index (0-based, as in the `.ipynb`) and traceback."""

    cell: int
    name: str
    value: str
    traceback: str

    def __str__(self):
        return f"cell {self.cell}: {self.name}: {self.value}"


@dataclasses.dataclass
class Run:
    """One executed notebook.

    Attributes:
        source: The notebook's path.
        notebook: The executed notebook (an `nbformat.NotebookNode`).
        path: Where the executed copy was written.
        figures_path: The file `lstmkit.report` recorded figures and checks into.
        seconds: Wall time of the whole execution.
        cell_seconds: `{cell index: seconds}` for every executed code cell.
        error: The `CellError` (or a kernel failure's text) if it did not pass, else None.
    """

    source: Path
    notebook: object
    path: Path
    figures_path: Path
    seconds: float
    cell_seconds: dict
    error: object = None

    @property
    def passed(self):
        return self.error is None


def set_seed(notebook, seed):
    """Replaces every `SEED = <int>` line in the code cells (in place) by `SEED = seed`;
    returns how many lines were replaced."""
    count = 0
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            cell["source"], replaced = SEED_LINE.subn(rf"\g<head>{int(seed)}", source)
            count += replaced
    return count


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


def cell_seconds(notebook):
    """`{cell index: seconds}` from the timing nbclient records in each cell's metadata."""
    seconds = {}
    for index, cell in enumerate(notebook["cells"]):
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            start, end = (
                datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                for stamp in (start, end)
            )
            seconds[index] = (end - start).total_seconds()
    return seconds


def first_error(notebook):
    """The `CellError` of the first cell whose outputs hold an error, or None."""
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            if output.get("output_type") == "error":
                traceback = _ANSI.sub("", "\n".join(output.get("traceback", [])))
                return CellError(
                    index, output.get("ename", ""), output.get("evalue", ""), traceback
                )
    return None


def execute(source, out_dir, seed=None, timeout=900, kernel_name="python3", env=None):
    """Executes the notebook at `source` in a fresh kernel and writes the executed copy.

    Args:
        source: Path of the notebook.
        out_dir: Folder for the executed copy (`<name>.ipynb`) and the figures and checks
            `lstmkit.report` records (`<stem>.figures.jsonl`).
        seed: If given, every `SEED = <int>` line is set to it first.
        timeout: Seconds any one cell may run.
        kernel_name: The Jupyter kernel; "python3" is this environment's own.
        env: Variables to set in the kernel's environment, on top of this process's.

    Returns:
        A `Run`.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from traitlets.config import Config

    source = Path(source)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.read(source, as_version=4)
    if seed is not None:
        set_seed(notebook, seed)
    figures_path = out_dir / f"{source.stem}.figures.jsonl"
    figures_path.unlink(missing_ok=True)
    kernel_env = {**os.environ, **(env or {}), FIGURES_ENV: str(figures_path)}
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(source.parent)}},
        config=Config(kernel_manager_config()),
        record_timing=True,
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute(env=kernel_env)
    except CellExecutionError:
        error = first_error(notebook) or "a cell raised an error"
    except Exception as exc:  # a dead kernel, a timeout
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    # nbformat requires a kernelspec's display_name; a notebook stripped without one
    # would otherwise fail validation when written or exported.
    kernelspec = notebook.metadata.get("kernelspec")
    if kernelspec is not None and "display_name" not in kernelspec:
        kernelspec["display_name"] = kernelspec.get("name", "python3")
    path = out_dir / source.name
    nbformat.write(notebook, path)
    return Run(source, notebook, path, figures_path, seconds, cell_seconds(notebook), error)


# One thread per kernel when kernels share the cores (several at once thrash otherwise).
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}


class Batch:
    """Notebooks executed `workers` at a time, each once, in the order they were given.

    `run(source)` returns the notebook's `Run`, waiting for it. With more than one worker
    each kernel gets one thread (`ONE_THREAD`). The notebooks in `alone` (timings) run
    after all the others, one at a time, with the machine's threads.

    Args:
        sources: The notebooks' paths.
        out_dir_of: A function from a notebook's path to its output folder.
        workers: How many kernels run at once.
        alone: Paths among `sources` to run by themselves, after the rest.
        **options: Passed on to `execute` (`seed`, `timeout`, `env`, ...).
    """

    def __init__(self, sources, out_dir_of, workers=1, alone=(), **options):
        import concurrent.futures
        import threading

        self._sources = [Path(source) for source in sources]
        self._alone = {Path(source) for source in alone}
        self._out_dir_of = out_dir_of
        self._workers = max(1, int(workers))
        self._options = options
        self._pool = concurrent.futures.ThreadPoolExecutor(self._workers)
        self._futures = {}
        self._runs = {}
        self._lock = threading.Lock()

    def _execute(self, source, shared):
        options = dict(self._options)
        if shared and self._workers > 1:
            options["env"] = {**ONE_THREAD, **(options.get("env") or {})}
        return execute(source, self._out_dir_of(source), **options)

    def select(self, sources):
        """Keeps only `sources` (e.g. the notebooks the selected tests need); before `run`."""
        wanted = {Path(source) for source in sources}
        self._sources = [source for source in self._sources if source in wanted]

    def _start(self):
        if not self._futures:
            for source in self._sources:
                if source not in self._alone:
                    self._futures[source] = self._pool.submit(self._execute, source, True)

    def run(self, source):
        """The `Run` of `source` (one of the batch's notebooks), executing it if needed."""
        source = Path(source)
        with self._lock:
            self._start()
        if source in self._futures:
            return self._futures[source].result()
        with self._lock:  # alone: after everything else, one at a time
            if source not in self._runs:
                for future in self._futures.values():
                    future.exception()  # wait, whatever the outcome
                self._runs[source] = self._execute(source, shared=False)
            return self._runs[source]

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)
