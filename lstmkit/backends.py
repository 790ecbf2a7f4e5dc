"""What notebook 00 asks of each backend, in a form a child process can run too.

    framework_devices   the devices the active backend's framework lists, and where Keras
                        puts a new tensor
    expected_device     the device Keras should use: the first accelerator, else the CPU
    numpy_inputs        a matmul's operands, an LSTM's input and weights, drawn with NumPy
    same_ops            a matmul, three activations, lstmkit's LSTM and a seeded draw,
                        computed on the active backend from `numpy_inputs`
    numpy_references    the same ops (but the draw) in float64 NumPy: the reference
    through_float32     which of `same_ops`'s results went through float32 on the way

A process has one backend, so comparing backends means running `same_ops` in one process
per backend and comparing the results with `numpy_references` (notebook 00 starts the
children; `python -m lstmkit.backends SEED [DTYPE]` prints one process's results as JSON).
"""

import json
import sys

import keras
import numpy as np
from keras import ops

# The LSTM that `same_ops` runs: (batch, time, features) inputs, `LSTM_UNITS` units.
LSTM_INPUT_SHAPE, LSTM_UNITS = (2, 6, 3), 4


def framework_devices():
    """`(listed, placed)`: the device names the active backend's framework lists, and the
    device of a new Keras tensor, as strings."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        listed = [d.name for d in tf.config.list_logical_devices()]  # '/device:CPU:0', ...
    elif backend == "jax":
        import jax

        listed = [str(d) for d in jax.devices()]  # 'cpu:0', or 'cuda:0', ... (no CPU then)
    elif backend == "torch":
        import torch

        # torch.accelerator (PyTorch >= 2.6) is CUDA, ROCm, MPS or XPU, whichever is built in.
        accelerator = torch.accelerator.current_accelerator()  # None on a CPU-only machine
        count = torch.accelerator.device_count() if accelerator is not None else 0
        listed = ["cpu"] + [f"{accelerator.type}:{i}" for i in range(count)]
    else:
        raise NotImplementedError(f"No device listing for backend {backend!r}.")
    return listed, str(ops.zeros((1,)).device)


def expected_device(listed):
    """The device Keras should put a new tensor on: the first accelerator listed, or the
    first device (the CPU) when the framework lists no accelerator."""
    accelerators = [name for name in listed if "cpu" not in name.lower()]
    return accelerators[0] if accelerators else listed[0]


def numpy_inputs(seed, dtype="float32"):
    """The inputs of `same_ops`, drawn with NumPy from `seed` (the same on every backend).

    Returns:
        A dict: `a` (4, 5) and `b` (5, 3) for the matmul and activations; `x` the LSTM's
        input `(batch, time, features)`; `lstm_weights` `[kernel (features, 4 units),
        recurrent_kernel (units, 4 units), bias (4 units,)]`.
    """
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(4, 5)).astype(dtype)
    b = rng.normal(size=(5, 3)).astype(dtype)
    x = rng.normal(size=LSTM_INPUT_SHAPE).astype(dtype)
    features, units = LSTM_INPUT_SHAPE[-1], LSTM_UNITS
    shapes = [(features, 4 * units), (units, 4 * units), (4 * units,)]
    lstm_weights = [rng.normal(0, 0.5, shape).astype(dtype) for shape in shapes]
    return {"a": a, "b": b, "x": x, "lstm_weights": lstm_weights}


def same_ops(seed, dtype="float32"):
    """A matmul, sigmoid, tanh, softmax and lstmkit's LSTM on `numpy_inputs(seed, dtype)`,
    and `keras.random.normal((3,), seed=seed)`, computed on the active backend.

    Returns:
        `{name: nested list}` (JSON-ready), plus `"dtypes"`: `{name: the dtype its result
        came in}` for every op but the draw, and `"dtype"`: those dtypes, joined by commas
        (one name when they agree).
    """
    from lstmkit.layers import LSTM

    inputs = numpy_inputs(seed, dtype)
    # Tensors of `dtype` from the start: a backend may turn a float64 NumPy array into floatx.
    a, b, x = (ops.convert_to_tensor(inputs[name], dtype=dtype) for name in ("a", "b", "x"))
    layer = LSTM(LSTM_UNITS, dtype=dtype)
    layer.build(inputs["x"].shape)
    layer.set_weights(inputs["lstm_weights"])
    lstm = layer(x)  # (batch, units)
    results = {
        "matmul": ops.matmul(a, b),
        "sigmoid": ops.sigmoid(a),
        "tanh": ops.tanh(a),
        "softmax": ops.softmax(a, axis=-1),
        "lstm": lstm,
        "seeded_draw": keras.random.normal((3,), seed=seed),  # the backend's own generator
    }
    computed = {name: ops.convert_to_numpy(value) for name, value in results.items()}
    # An op may return another dtype than its inputs': Keras's type promotion
    # (keras.backend.result_type) turns float64 into float32 on every backend but
    # TensorFlow, so an op that goes through it does (torch's matmul, JAX's tanh).
    dtypes = {name: str(value.dtype) for name, value in computed.items() if name != "seeded_draw"}
    return {
        "dtypes": dtypes,
        "dtype": ", ".join(sorted(set(dtypes.values()))),  # "float64" only if every op is
        **{name: value.tolist() for name, value in computed.items()},
    }


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def numpy_lstm(x, kernel, recurrent_kernel, bias):
    """The LSTM's last output `(batch, units)` in NumPy, from zero state; gates `[i|f|c|o]`."""
    units = recurrent_kernel.shape[0]
    h = c = np.zeros((x.shape[0], units), x.dtype)  # (batch, units)
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias  # (batch, 4 * units)
        z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)  # (batch, units) each
        c = _sigmoid(z_f) * c + _sigmoid(z_i) * np.tanh(z_c)  # (batch, units)
        h = _sigmoid(z_o) * np.tanh(c)  # (batch, units)
    return h


def numpy_references(seed, dtype="float32"):
    """`same_ops`'s results but the draw, computed in float64 NumPy from the same inputs."""
    inputs = numpy_inputs(seed, dtype)
    a, b, x = (inputs[name].astype("float64") for name in ("a", "b", "x"))
    weights = [w.astype("float64") for w in inputs["lstm_weights"]]
    return {
        "matmul": a @ b,
        "sigmoid": _sigmoid(a),
        "tanh": np.tanh(a),
        "softmax": np.exp(a) / np.exp(a).sum(axis=-1, keepdims=True),
        "lstm": numpy_lstm(x, *weights),
    }


def through_float32(dtypes):
    """The names in `dtypes` (`same_ops(...)["dtypes"]`) whose result came back in float32.

    lstmkit's LSTM keeps float64 where a Keras op it is built from would round it to
    float32 (torch's `ops.matmul`, JAX's `ops.tanh` under x64: see `lstmkit.layers`), so
    its own result's dtype says how precise it is, as for every other op.
    """
    return {name for name, dtype in dtypes.items() if dtype == "float32"}


def main(argv=None):
    """`python -m lstmkit.backends SEED [DTYPE]`: this process's backend, devices and
    `same_ops` results, as one line of JSON."""
    argv = sys.argv[1:] if argv is None else argv
    seed, dtype = int(argv[0]), (argv[1] if len(argv) > 1 else "float32")
    print(
        json.dumps(
            {
                "backend": keras.backend.backend(),
                "devices": framework_devices(),
                **same_ops(seed, dtype),
            }
        )
    )


if __name__ == "__main__":
    main()
