"""One training run, the same on every backend, for comparing backends side by side.

The backend cannot change after `import keras`, so notebook 11 starts this module
once per backend in a fresh process:

    KERAS_BACKEND=jax python -m lstmkit.compare --out build/compare

Each run builds the same model with the same starting weights (drawn with NumPy,
not with the backend's random generator), trains it on the same batches in the
same order, and writes to `--out`:

    <backend>.json   backend, versions, seconds per step, the loss of every step
    <backend>.keras  the trained model
    <backend>.npy    its predictions on a fixed probe batch

`--distributed N` (JAX only) instead trains the model twice — on one device and
with `keras.distribution.DataParallel` over N devices — and writes both loss
curves to `distributed.json`. Simulate N CPU devices with
`XLA_FLAGS=--xla_force_host_platform_device_count=N`.
"""

import argparse
import json
import os
import sys
import time

import keras
import numpy as np

import lstmkit
from lstmkit.callbacks import StepTimer
from lstmkit.datasets import make_adding_problem

DEFAULTS = dict(steps=40, batch_size=64, length=50, units=64, seed=0)


def build_model(length, units, seed):
    """Adding-problem regressor with starting weights drawn by NumPy from `seed`."""
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
    x, y = make_adding_problem(steps * batch_size, length=length, seed=seed)
    probe, _ = make_adding_problem(32, length=length, seed=seed + 1)
    return x, y, probe


class _LossPerStep(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))


def train(x, y, length, units, seed, batch_size):
    """Fit one epoch, no shuffling; returns the model, per-step losses and step times."""
    model = build_model(length, units, seed)
    # SGD: with the same weights, data and order, every backend takes the same steps.
    model.compile(optimizer=keras.optimizers.SGD(0.1, global_clipnorm=1.0), loss="mse")
    losses, timer = _LossPerStep(), StepTimer()
    model.fit(
        x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0, callbacks=[losses, timer]
    )
    return model, losses.losses, timer


def run(out, steps, batch_size, length, units, seed):
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
    import jax  # noqa: F401  (--distributed is a JAX feature here)

    found = keras.distribution.list_devices()
    if len(found) < devices:
        raise RuntimeError(
            f"{devices} devices asked for, {len(found)} found; set "
            f"XLA_FLAGS=--xla_force_host_platform_device_count={devices}"
        )
    x, y, _ = make_data(steps, batch_size, length, seed)
    _, single_losses, _ = train(x, y, length, units, seed, batch_size)
    distribution = keras.distribution.DataParallel(devices=found[:devices])
    keras.distribution.set_distribution(distribution)
    try:
        model, parallel_losses, _ = train(x, y, length, units, seed, batch_size)
        kernel_layout = str(model.get_layer("lstm").cell.kernel.value.sharding)
    finally:
        keras.distribution.set_distribution(None)
    result = dict(
        devices=[str(d) for d in found[:devices]],
        single=single_losses,
        data_parallel=parallel_losses,
        kernel_sharding=kernel_layout,
    )
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "distributed.json"), "w") as f:
        json.dump(result, f)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--distributed", type=int, default=0, metavar="N")
    for name, value in DEFAULTS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=value)
    args = vars(parser.parse_args(argv))
    out, devices = args.pop("out"), args.pop("distributed")
    if devices:
        run_distributed(out, devices, **args)
    else:
        run(out, **args)


if __name__ == "__main__":
    sys.exit(main())
