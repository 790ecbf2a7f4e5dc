"""One training run, the same on every backend, for comparing backends side by side;
and a plain PyTorch `nn.LSTM` contender in a process of its own, for timing.

The backend cannot change after `import keras`, so notebook 11 starts this module
once per backend in a fresh process:

    KERAS_BACKEND=jax python -m lstmkit.compare --out build/compare

Each run builds the same model with the same starting weights (drawn with NumPy,
not with the backend's random generator), trains it on the same batches in the
same order, and writes to `--out`:

    <backend>.json   backend, versions, seconds per step, the loss of every step (each
                     batch's own, not the running mean that fit logs)
    <backend>.keras  the trained model
    <backend>.npy    its predictions on a fixed probe batch

`--distributed N` (JAX only) then, in the same process, trains the same model again
with `keras.distribution.DataParallel` over N devices and writes its loss curve to
`distributed.json`, to be compared with `jax.json`'s one-device curve (one process
where two would each pay the imports). Simulate N CPU devices with
`XLA_FLAGS=--xla_force_host_platform_device_count=N`; the one-device run uses the
first.

`NNLSTMProcess` times the same model written in plain PyTorch (`nn.LSTM` and
`nn.Linear`) in a child process that imports torch and NumPy only, and
`KerasProcess` the Keras models (`lstmkit.LSTM`, its reference path,
`keras.layers.LSTM`) in a child of their own, so that no framework shares a process
with another, nor with whatever the parent has loaded. `time_in_turns`
times contenders alternately, round after round, so that a busy machine slows them
alike, with untimed steps at the start of each turn if asked, so that the switch from
one contender to the next is not charged to whichever comes first. Keras and lstmkit
are imported inside the functions that use them, so that the child (this file run by
its path) loads neither.
"""

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

DEFAULTS = dict(steps=40, batch_size=64, length=50, units=64, seed=0)


def build_model(length, units, seed):
    """Adding-problem regressor with starting weights drawn by NumPy from `seed`."""
    import keras

    import lstmkit

    inputs = keras.Input((length, 2))
    hidden = lstmkit.LSTM(units, name="lstm")(inputs)  # (batch, units)
    outputs = keras.layers.Dense(1, name="head")(hidden)  # (batch, 1)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(seed)
    model.set_weights(
        [rng.uniform(-0.1, 0.1, size=w.shape).astype("float32") for w in model.get_weights()]
    )
    return model


def make_data(steps, batch_size, length, seed):
    """`steps * batch_size` sequences, and a probe batch of 32 others."""
    from lstmkit.datasets import make_adding_problem

    x, y = make_adding_problem(steps * batch_size, length=length, seed=seed)
    probe, _ = make_adding_problem(32, length=length, seed=seed + 1)
    return x, y, probe


def train(x, y, length, units, seed, batch_size):
    """Fit one epoch, no shuffling; returns the model, per-step losses and step times."""
    import keras

    from lstmkit.callbacks import StepTimer

    model = build_model(length, units, seed)
    # SGD: with the same weights, data and order, every backend takes the same steps.
    model.compile(optimizer=keras.optimizers.SGD(0.1, global_clipnorm=1.0), loss="mse")
    running_means, timer = [], StepTimer()
    record_loss = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: running_means.append(float(logs["loss"]))
    )
    model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[record_loss, timer],
    )
    sizes = [min(batch_size, len(x) - k * batch_size) for k in range(len(running_means))]
    return model, per_step_losses(running_means, sizes), timer


def per_step_losses(running_means, batch_sizes):
    """Each step's own loss, from the epoch's running means that `fit` logs.

    Keras 3 logs `loss` at step k as the mean over the epoch so far, weighted by
    batch size; step k's own loss is `(N_k m_k - N_(k-1) m_(k-1)) / n_k` with
    `N_k` the samples seen and `n_k` the batch's.
    """
    losses, seen, previous = [], 0, 0.0
    for mean, size in zip(running_means, batch_sizes):
        total = (seen + size) * mean
        losses.append((total - seen * previous) / size)
        seen, previous = seen + size, mean
    return losses


def run(out, steps, batch_size, length, units, seed):
    import keras

    backend = keras.backend.backend()
    x, y, probe = make_data(steps, batch_size, length, seed)
    start = time.perf_counter()
    model, losses, timer = train(x, y, length, units, seed, batch_size)
    seconds = time.perf_counter() - start
    os.makedirs(out, exist_ok=True)
    model.save(os.path.join(out, f"{backend}.keras"))
    np.save(os.path.join(out, f"{backend}.npy"), model.predict(probe, verbose=0))
    result = dict(
        backend=backend,
        keras=keras.__version__,
        ms_per_step=1000 * timer.median_step_seconds(),
        first_step_seconds=timer.step_seconds[0],
        fit_seconds=seconds,
        losses=losses,
    )
    with open(os.path.join(out, f"{backend}.json"), "w") as f:
        json.dump(result, f)
    return result


def run_distributed(out, devices, steps, batch_size, length, units, seed):
    """`train` under `DataParallel` over the first `devices` devices; writes distributed.json."""
    import jax  # noqa: F401  (--distributed is a JAX feature here)
    import keras

    found = keras.distribution.list_devices()
    if len(found) < devices:
        raise RuntimeError(
            f"{devices} devices asked for, {len(found)} found; set "
            f"XLA_FLAGS=--xla_force_host_platform_device_count={devices}"
        )
    x, y, _ = make_data(steps, batch_size, length, seed)
    distribution = keras.distribution.DataParallel(devices=found[:devices])
    keras.distribution.set_distribution(distribution)
    try:
        model, parallel_losses, _ = train(x, y, length, units, seed, batch_size)
        kernel_layout = str(model.get_layer("lstm").cell.kernel.value.sharding)
    finally:
        keras.distribution.set_distribution(None)
    result = dict(
        devices=[str(d) for d in found[:devices]],
        data_parallel=parallel_losses,
        kernel_sharding=kernel_layout,
    )
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "distributed.json"), "w") as f:
        json.dump(result, f)
    return result


def nn_lstm_training_step(x, y, weights, learning_rate):
    """One training step of `nn.LSTM -> nn.Linear` on the last step, MSE, SGD: plain PyTorch.

    Args:
        x: float32 `(batch, time, features)`; y: float32 `(batch, 1)`.
        weights: The Keras model's weights `[kernel, recurrent_kernel, bias, head_kernel,
            head_bias]` (an LSTM -> Dense(1) model), copied in as `lstmkit.convert` does.
        learning_rate: SGD's step size.

    Returns:
        A function that takes one training step on `(x, y)` and returns the loss.
    """
    import torch

    kernel, recurrent_kernel, bias, head_kernel, head_bias = weights
    lstm = torch.nn.LSTM(kernel.shape[0], recurrent_kernel.shape[0], batch_first=True)
    head = torch.nn.Linear(head_kernel.shape[0], 1)
    with torch.no_grad():  # Keras (input, 4 * units) is PyTorch's (4 * hidden, input), transposed
        lstm.weight_ih_l0.copy_(torch.from_numpy(kernel.T))
        lstm.weight_hh_l0.copy_(torch.from_numpy(recurrent_kernel.T))
        lstm.bias_ih_l0.copy_(torch.from_numpy(bias))
        lstm.bias_hh_l0.zero_()  # PyTorch's second bias; only the sum counts
        head.weight.copy_(torch.from_numpy(head_kernel.T))
        head.bias.copy_(torch.from_numpy(head_bias))
    # bias_hh is left out of the update: under SGD both biases would move by the same
    # gradient step, so their sum, the one bias Keras has, would move twice as far.
    trained = [lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, *head.parameters()]
    optimizer = torch.optim.SGD(trained, lr=learning_rate)
    x, y = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        optimizer.zero_grad()
        _, (h_n, _) = lstm(x)  # h_n: (layers, batch, units), the last step's h
        loss = torch.nn.functional.mse_loss(head(h_n[-1]), y)
        loss.backward()
        optimizer.step()
        return float(loss)

    return step


def timed_steps(step):
    """Wraps `step() -> loss` as `run(n) -> (seconds of each step, loss of each step)`."""

    def run_steps(n):
        seconds, losses = [], []
        for _ in range(n):
            start = time.perf_counter()
            losses.append(float(step()))
            seconds.append(time.perf_counter() - start)
        return seconds, losses

    return run_steps


def _threads():
    # This process's thread settings, as the child reports them to its parent.
    names = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "XLA_FLAGS")
    settings = {name: os.environ[name] for name in names if name in os.environ}
    if "torch" in sys.modules:
        settings["torch.get_num_threads()"] = sys.modules["torch"].get_num_threads()
    return settings


def _serve(runs, hello, requests, replies):
    # The child's side of a _TimingProcess: a hello line, then one JSON line per
    # request line "name<TAB>n" (or "n" for the only contender).
    frameworks = [name for name in ("keras", "tensorflow", "jax", "torch") if name in sys.modules]
    hello = dict(hello, frameworks=frameworks, threads=_threads())
    print(json.dumps(hello), file=replies, flush=True)
    for line in requests:
        name, _, n = line.strip().rpartition("\t")
        seconds, losses = runs[name or next(iter(runs))](int(n))
        print(json.dumps(dict(seconds=seconds, losses=losses)), file=replies, flush=True)


def _nn_lstm_worker(batch_file, requests, replies):
    # The child's side of NNLSTMProcess.
    import torch

    data = np.load(batch_file)
    weights = [data[f"weight_{i}"] for i in range(5)]
    step = nn_lstm_training_step(data["x"], data["y"], weights, float(data["learning_rate"]))
    runs = {"nn.LSTM": timed_steps(step)}
    _serve(runs, dict(torch=torch.__version__), requests, replies)


# The Keras contenders a KerasProcess can time.
KERAS_LAYERS = ("lstmkit.LSTM", "lstmkit.LSTM(use_fused=False)", "keras.layers.LSTM")


def keras_layer(name, units):
    """The LSTM layer of contender `name` (one of `KERAS_LAYERS`)."""
    import keras

    import lstmkit

    if name == "keras.layers.LSTM":
        return keras.layers.LSTM(units)
    return lstmkit.LSTM(units, use_fused=name == "lstmkit.LSTM")


def timing_model(layer, length, features, learning_rate):
    """`layer` -> `Dense(1)` on `(length, features)` sequences, compiled with SGD and MSE."""
    import keras

    inputs = keras.Input((length, features))
    model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    return model


def _keras_worker(batch_file, names, requests, replies):
    # The child's side of KerasProcess: one model per contender, built from the same
    # weights; each request runs one contender's `train_on_batch` steps.
    import keras

    from lstmkit import fused

    data = np.load(batch_file)
    x, y, learning_rate = data["x"], data["y"], float(data["learning_rate"])
    weights = [data[f"weight_{i}"] for i in range(5)]
    runs, paths = {}, {}
    for name in names:
        layer = keras_layer(name, weights[1].shape[0])
        model = timing_model(layer, x.shape[1], x.shape[2], learning_rate)
        model.set_weights(weights)
        runs[name] = timed_steps(functools.partial(model.train_on_batch, x, y))
        paths[name] = fused.path_taken(layer) if hasattr(layer, "use_fused") else "Keras's own"
    hello = dict(backend=keras.backend.backend(), keras=keras.__version__, paths=paths)
    _serve(runs, hello, requests, replies)


class _TimingProcess:
    """A child process that trains contenders on request and times each step itself.

    The round trip to the child is not counted. It starts at once and is waited for at
    the first use. Use it as a context manager, or call `close`.
    """

    _failure = "the timing process failed"

    def __init__(self, x, y, weights, learning_rate, worker_arguments, environment=None):
        self._folder = tempfile.TemporaryDirectory(prefix="lstmkit-timing-")
        batch_file = os.path.join(self._folder.name, "batch.npz")
        arrays = {f"weight_{i}": np.asarray(w, dtype="float32") for i, w in enumerate(weights)}
        np.savez(batch_file, x=x, y=y, learning_rate=learning_rate, **arrays)
        self._errors = open(os.path.join(self._folder.name, "stderr.txt"), "w+")
        self._process = subprocess.Popen(
            worker_arguments(batch_file),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            text=True,
            env=environment,
        )
        self._hello = None  # read on first use: the child starts while the parent works on

    @property
    def frameworks(self):
        """The frameworks imported in the child, e.g. `["torch"]`."""
        return self._ready()["frameworks"]

    @property
    def threads(self):
        """The child's thread settings (environment variables, torch's thread count)."""
        return self._ready()["threads"]

    def _ready(self):
        if self._hello is None:
            self._hello = self._reply()
        return self._hello

    def _reply(self):
        line = self._process.stdout.readline()
        if not line:
            self._errors.seek(0)
            raise RuntimeError(f"{self._failure}:\n{self._errors.read()[-3000:]}")
        return json.loads(line)

    def _run(self, request):
        self._ready()
        print(request, file=self._process.stdin, flush=True)
        reply = self._reply()
        return reply["seconds"], reply["losses"]

    def close(self):
        if self._process.poll() is None:
            self._process.stdin.close()
            self._process.wait(timeout=60)
        self._errors.close()
        self._folder.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class NNLSTMProcess(_TimingProcess):
    """The plain PyTorch model of `nn_lstm_training_step`, trained in a child process.

    The child imports torch and NumPy only (it reports what it loaded in
    `frameworks`) and times each step itself; call it with `n` to train `n` steps.

    Args:
        x, y: The batch every step trains on.
        weights: The starting weights, a Keras LSTM -> Dense(1) model's `get_weights()`.
        learning_rate: SGD's step size.
        environment: The child's environment variables (default: this process's).

    Attributes:
        frameworks: The frameworks imported in the child, e.g. `["torch"]`.
        threads: The child's thread settings.
        torch_version: The child's torch version.
    """

    _failure = "the nn.LSTM process failed"

    def __init__(self, x, y, weights, learning_rate, environment=None):
        # -P: run this file by its path without putting lstmkit/ on sys.path, and
        # without importing the lstmkit package (which imports Keras).
        def arguments(batch_file):
            return [sys.executable, "-P", os.path.abspath(__file__), "--nn-lstm-worker", batch_file]

        super().__init__(x, y, weights, learning_rate, arguments, environment)

    @property
    def torch_version(self):
        return self._ready()["torch"]

    def __call__(self, n):
        """Trains `n` steps in the child: `(seconds of each step, loss of each step)`."""
        return self._run(str(n))


class KerasProcess(_TimingProcess):
    """Keras models with different LSTM layers, trained in one child process.

    Each contender (a name in `KERAS_LAYERS`) is `timing_model` around its layer, with
    the same starting weights; the child imports Keras on `backend`, and times each
    `train_on_batch` step itself. So a notebook's kernel, whatever it has imported,
    runs nothing while they are timed.

    Args:
        x, y: The batch every step trains on.
        weights: The starting weights, a Keras LSTM -> Dense(1) model's `get_weights()`.
        learning_rate: SGD's step size.
        layers: Names from `KERAS_LAYERS`.
        backend: The child's `KERAS_BACKEND`.
        environment: The child's environment variables (default: this process's).

    Attributes:
        frameworks: The frameworks imported in the child.
        threads: The child's thread settings.
        paths: `{name: the path its layer runs}` (`lstmkit.fused.path_taken`).
    """

    _failure = "the Keras timing process failed"

    def __init__(self, x, y, weights, learning_rate, layers, backend, environment=None):
        unknown = set(layers) - set(KERAS_LAYERS)
        if unknown:
            raise ValueError(f"unknown layers {sorted(unknown)}; known: {list(KERAS_LAYERS)}")
        environment = dict(os.environ if environment is None else environment)
        environment["KERAS_BACKEND"] = backend
        environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

        def arguments(batch_file):
            command = [sys.executable, "-m", "lstmkit.compare", "--keras-worker", batch_file]
            return command + ["--layers", *layers]

        super().__init__(x, y, weights, learning_rate, arguments, environment)
        self.layers = list(layers)

    @property
    def paths(self):
        return self._ready()["paths"]

    def contender(self, name):
        """`run(n)` for `time_in_turns`: trains `n` steps of contender `name`."""
        if name not in self.layers:
            raise ValueError(f"{name!r} is not among {self.layers}")
        return lambda n: self._run(f"{name}\t{n}")


def balanced_orders(count):
    """The orders of a Williams design for `count` contenders: a list of rounds, each a
    permutation of `range(count)`.

    Over one cycle of the list, every contender runs in every position of a round equally
    often, and, within the rounds, directly after every other contender equally often: so
    neither the turn that opens a round nor what ran just before it in the round (another
    process woken, its caches cold) favours anyone. Across the boundary between rounds the
    last contender of one round precedes the first of the next, which the design does not
    balance; the untimed steps that open each turn take most of that switch. The cycle has
    `count` rounds for an even count, `2 * count` for an odd one (each round followed by
    its mirror image).
    """
    if count < 1:
        raise ValueError(f"Need at least one contender, received {count}.")
    first = [0 if j == 0 else (j + 1) // 2 if j % 2 else count - j // 2 for j in range(count)]
    orders = [[(position + shift) % count for position in first] for shift in range(count)]
    if count % 2:
        orders += [order[::-1] for order in orders]
    return orders


def time_in_turns(
    contenders, rounds, steps_per_round, on_round=None, untimed_steps=0, balanced=False
):
    """Times contenders alternately: each round runs every contender's steps in turn.

    The first step of a turn can pay for the switch from the contender before it
    (another process woken, its caches cold), and the contender that opens every
    round would pay it every time: `untimed_steps` steps at the start of each turn
    take that cost and are not timed (their losses are kept, so every contender's
    loss curve still has every step). What is left of a position effect, `balanced`
    spreads over all contenders: the rounds follow `balanced_orders`, so that over
    each full cycle every contender runs in every position, and within the rounds after
    every other contender, equally often (not across the boundary between rounds).
    (Rotating the opener alone, in a fixed cyclic order, left each contender always after
    the same one: two turns of the same code timed 1.02x to 1.03x apart that way in
    lesson 11.)

    Args:
        contenders: `{name: run}`, `run(n)` taking n training steps and returning
            `(seconds of each step, loss of each step)`, e.g. `timed_steps(step)` or
            an `NNLSTMProcess`.
        rounds: How many rounds; a multiple of `len(balanced_orders(len(contenders)))`
            balances fully.
        steps_per_round: Timed steps per contender per round.
        on_round: Optional `on_round(round_index, results)`, called after each round.
        untimed_steps: Steps at the start of each turn whose times are dropped.
        balanced: Whether the rounds follow a Williams design (otherwise the given
            order, every round).

    Returns:
        `{name: {"seconds": [...], "losses": [...]}}`: `rounds * steps_per_round`
        step times, and the loss of every step taken, untimed ones included, in order.
    """
    results = {name: {"seconds": [], "losses": []} for name in contenders}
    names = list(contenders)
    orders = balanced_orders(len(names)) if balanced else [list(range(len(names)))]
    for round_index in range(rounds):
        for name in (names[k] for k in orders[round_index % len(orders)]):
            seconds, losses = contenders[name](untimed_steps + steps_per_round)
            results[name]["seconds"] += seconds[untimed_steps:]
            results[name]["losses"] += losses
        if on_round is not None:
            on_round(round_index, results)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out")
    parser.add_argument("--distributed", type=int, default=0, metavar="N")
    parser.add_argument("--nn-lstm-worker", metavar="BATCH_FILE", help=argparse.SUPPRESS)
    parser.add_argument("--keras-worker", metavar="BATCH_FILE", help=argparse.SUPPRESS)
    parser.add_argument("--layers", nargs="+", help=argparse.SUPPRESS)
    for name, value in DEFAULTS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=value)
    args = vars(parser.parse_args(argv))
    out, devices, batch_file = args.pop("out"), args.pop("distributed"), args.pop("nn_lstm_worker")
    keras_batch_file, layers = args.pop("keras_worker"), args.pop("layers")
    if batch_file:
        _nn_lstm_worker(batch_file, sys.stdin, sys.stdout)
        return
    if keras_batch_file:
        _keras_worker(keras_batch_file, layers, sys.stdin, sys.stdout)
        return
    if not out:
        parser.error("--out is required")
    run(out, **args)
    if devices:
        run_distributed(out, devices, **args)


if __name__ == "__main__":
    sys.exit(main())
