"""How far back a recurrent layer's gradient reaches: the measurements of notebooks 01 and 02.

    rnn_state_gradients    g_t = d sum(h_T) / d h_t of a tanh RNN, every step   (batch, time, units)
    state_gradient_norms   ||g_t||, mean over the batch                          (time,)
    long_run_rate          d log||g_t|| per step back, fitted over the far half   float
    input_gradient_norms   ||d sum(h_T) / d x_t|| of a recurrent layer            (time,)
    kept_per_step          the fraction of that gradient kept per step back       float
    keras_default_weights  Keras's default initialisation, drawn with NumPy       the layer
    how_units_hold         how each unit of a trained LSTM holds its cell state   dict

Notebook 01 writes the simple RNN's step and its backward pass by hand and measures the
gradient with `rnn_state_gradients`; notebook 02 compares a SimpleRNN with LSTMs through
`input_gradient_norms`. Their worked solutions rerun the same measurements under the
exercises' edits (another length, another seed, smaller inputs, no forget bias).
"""

import numpy as np
from keras import ops

from lstmkit.gradients import gradients

# Norms are fitted only above this: float32's smallest normal number is 1.2e-38, and below
# it a backend either flushes to 0 (TensorFlow and JAX on CPU) or keeps ever fewer digits.
FLOAT32_FLOOR = 1e3 * float(np.finfo("float32").tiny)


def rnn_state_gradients(x, kernel, recurrent_kernel, bias):
    """g_t = d sum(h_T) / d h_t for every step t of a tanh RNN from h_0 = 0.

    The RNN is `h_t = tanh(x_t W + h_{t-1} U + b)` (row vectors, Keras's layout). Autodiff
    gives gradients with respect to inputs, not to intermediate states, so a zero
    perturbation `delta_t` is added to each state as it is computed: the gradient of
    `sum(h_T)` at `delta_t = 0` is exactly g_t.

    Args:
        x: Inputs `(batch, time, features)`.
        kernel, recurrent_kernel, bias: W `(features, units)`, U `(units, units)`, b `(units,)`.

    Returns:
        float64 NumPy array `(batch, time, units)`; entry `[:, t - 1]` is g_t.
    """
    x = np.asarray(x, "float32")
    kernel, recurrent_kernel, bias = (
        ops.convert_to_tensor(w) for w in (kernel, recurrent_kernel, bias)
    )
    batch, units = x.shape[0], recurrent_kernel.shape[0]
    x_steps = [x[:, t, :] for t in range(x.shape[1])]  # one (batch, features) slice per step

    def last_state_sum(*deltas):  # one zero (batch, units) perturbation per step
        h = ops.zeros((batch, units))  # (batch, units)
        for x_t, delta in zip(x_steps, deltas):
            pre_activation = ops.matmul(x_t, kernel) + ops.matmul(h, recurrent_kernel) + bias
            h = ops.tanh(pre_activation) + delta  # (batch, units)
        return ops.sum(h)

    zeros = [np.zeros((batch, units), "float32")] * len(x_steps)
    _, grads = gradients(last_state_sum, *zeros)  # one (batch, units) array per step
    return np.stack(grads, axis=1).astype("float64")  # (batch, time, units)


def state_gradient_norms(x, kernel, recurrent_kernel, bias):
    """||g_t|| for t = 1 .. T, the mean over the batch: `(time,)`, float64.

    The norms are taken in float64: squaring a float32 gradient of 1e20 would overflow.
    """
    g = rnn_state_gradients(x, kernel, recurrent_kernel, bias)  # (batch, time, units)
    return np.linalg.norm(g, axis=-1).mean(axis=0)  # (time,)


def long_run_rate(norms, floor=FLOAT32_FLOOR):
    """d log||g_t|| per step back in time, fitted over the farther half of the usable steps.

    Args:
        norms: `(time,)`, entry `t - 1` the norm at step t (as `state_gradient_norms`).
        floor: Norms at or below it (underflowed, or held with too few digits) are skipped,
            as are infinities (overflowed).

    Returns:
        The slope of log||g_t|| against the distance T - t: log(rho) in the long run.
    """
    norms = np.asarray(norms, "float64")
    usable = np.flatnonzero(np.isfinite(norms) & (norms > floor))
    if len(usable) < 2:
        raise ValueError(f"Fewer than 2 norms above {floor:.1e}: nothing to fit.")
    far = usable[: max(len(usable) // 2, 2)]  # the steps farthest from T
    return float(-np.polyfit(far, np.log(norms[far]), 1)[0])


def input_gradient_norms(layer, x, per_sequence=False):
    """||d sum(h_T) / d x_t|| for every input step t, the mean over the batch: `(time,)`.

    Each sequence's `h_T` depends on its own inputs only, so one gradient of the batch's sum
    gives every sequence's gradient at once.

    Args:
        layer: A recurrent layer (SimpleRNN, LSTM, ...), with or without
            `return_sequences`; `h_T` is its output at the last step.
        x: Inputs `(batch, time, features)`.
        per_sequence: Return the norms of each sequence, `(batch, time)`, instead of their mean.
    """

    def last_output_sum(inputs):
        outputs = layer(inputs)
        last = outputs[:, -1, :] if len(outputs.shape) == 3 else outputs  # (batch, units)
        return ops.sum(last)

    _, (grad,) = gradients(last_output_sum, np.asarray(x, "float32"))  # (batch, time, features)
    norms = np.linalg.norm(grad.astype("float64"), axis=-1)  # (batch, time)
    return norms if per_sequence else norms.mean(axis=0)


def kept_per_step(norms):
    """The fraction of the gradient kept per step back, fitted over every non-zero norm.

    `norms[t]` is the norm at input step t, the last entry at the last step T. The result is
    `10 ** slope` of log10(norm) against the distance T - t: below 1 when the gradient fades
    going back, above 1 when it grows. Norms that underflowed to 0 are skipped.
    """
    norms = np.asarray(norms, "float64")
    steps_back = np.arange(len(norms))[::-1]  # T - t
    positive = norms > 0
    if positive.sum() < 2:
        raise ValueError("Fewer than 2 non-zero norms: nothing to fit.")
    slope = np.polyfit(steps_back[positive], np.log10(norms[positive]), 1)[0]
    return float(10**slope)


def _glorot_uniform(rows, cols, rng):
    limit = np.sqrt(6 / (rows + cols))
    return rng.uniform(-limit, limit, (rows, cols)).astype("float32")


def _orthogonal(rows, cols, rng):
    q, r = np.linalg.qr(rng.normal(size=(max(rows, cols), min(rows, cols))))
    q *= np.sign(np.diag(r))  # a uniformly random orthogonal matrix
    return (q if rows >= cols else q.T).astype("float32")


def keras_default_weights(layer, features, rng, forget_bias=None):
    """Gives a SimpleRNN or LSTM Keras's default initialisation, drawn with NumPy.

    Each backend has its own random generator, so `keras.initializers` with one seed draw
    different weights on TensorFlow, JAX and PyTorch. This draws the same distributions
    from a NumPy generator instead, so the same network is measured on every backend: a
    Glorot-uniform kernel, an orthogonal recurrent kernel, and a zero bias except an LSTM's
    forget block.

    Args:
        layer: A `SimpleRNN` or `LSTM` (Keras's or lstmkit's), built here if it is not.
        features: The input's last dimension.
        rng: A `numpy.random.Generator`.
        forget_bias: An LSTM's forget-block bias; default what the layer asks for: 1 with
            `unit_forget_bias` (Keras's default), else 0.

    Returns:
        The layer, with the weights set.
    """
    if not layer.built:
        layer.build((None, None, features))
    cell = layer.cell
    units, width = cell.units, cell.kernel.shape[1]  # width: units x blocks
    if width not in (units, 4 * units) or len(layer.get_weights()) != 3:
        raise ValueError(
            f"keras_default_weights takes a SimpleRNN or an LSTM with a bias; received {layer}."
        )
    bias = np.zeros(width, "float32")
    if width == 4 * units:
        if forget_bias is None:
            forget_bias = 1.0 if cell.unit_forget_bias else 0.0
        bias[units : 2 * units] = forget_bias  # blocks [i | f | c | o]
    elif forget_bias is not None:
        raise ValueError("Argument `forget_bias` is for an LSTM; this layer has no forget gate.")
    layer.set_weights([_glorot_uniform(features, width, rng), _orthogonal(units, width, rng), bias])
    return layer


def how_units_hold(gates, steps, held=0.05):
    """How each unit of a trained LSTM treats its cell state over the chosen steps.

    Over the steps selected by `steps` (each with a step before it), per unit: the mean
    forget gate f, the mean size of what the input gate writes |i g|, of the cell state |c|,
    and of its change from the step before |c_t - c_{t-1}|; and which way the unit holds:

    - `"drifts"`: its cell state moves by `held` or more per step: it does not hold;
    - `"rests near 0"`: it holds a cell state near 0 (|c| < 0.1): nothing to hold;
    - `"keeps: f ≈ 1, i g ≈ 0"`: the cell-state path, f above 0.9 and |i g| below 0.1;
    - `"writes back"`: it holds a value with f at most 0.9 or a sizeable |i g|: each step
      loses (1 - f) c and writes it back through i g, a fixed point of c = f c + i g.

    Args:
        gates: The dict from `lstmkit.LSTM.gate_activations`, arrays `(batch, time, units)`.
        steps: Boolean `(batch, time)`, the steps to look at; never step 0 (no step before).
        held: The largest mean |c_t - c_{t-1}| of a unit that holds its value.

    Returns:
        A dict of `(units,)` arrays `"forget"`, `"written"`, `"cell"`, `"change"`, and
        `"way"`, a list of one of the four strings above per unit.
    """
    steps = np.asarray(steps, bool)
    if steps.ndim != 2 or steps.shape != gates["cell_state"].shape[:2]:
        raise ValueError(
            f"`steps` must be (batch, time) like the gates {gates['cell_state'].shape[:2]}, "
            f"received shape {steps.shape}."
        )
    if steps[:, 0].any() or not steps.any():
        raise ValueError("`steps` must select some steps, and none at step 0 (no step before).")
    cell = gates["cell_state"]
    change = np.abs(np.diff(cell, axis=1))[steps[:, 1:]]  # (steps, units) |c_t - c_{t-1}|
    written = np.abs(gates["input_gate"] * gates["candidate"])[steps]  # (steps, units)
    summary = {
        "forget": gates["forget_gate"][steps].mean(axis=0),
        "written": written.mean(axis=0),
        "cell": np.abs(cell[steps]).mean(axis=0),
        "change": change.mean(axis=0),
    }
    ways = []
    for forget, written, cell, change in zip(*summary.values()):
        if change >= held:
            ways.append("drifts")
        elif cell < 0.1:
            ways.append("rests near 0")
        elif forget > 0.9 and written < 0.1:
            ways.append("keeps: f ≈ 1, i g ≈ 0")
        else:
            ways.append("writes back")
    return {**summary, "way": ways}
